"""DenseSkipAttention's networks: U-Net++ generator, attention-augmented discriminator, spectral norm.

Comparisons use ``torch.equal`` / ``torch.allclose``: ``torch.testing.assert_close`` imports
``torch.distributed`` on first use, which alone takes seconds.
"""

import copy
import pickle
import warnings

import pytest
import torch
from torch import nn

from skgan_ad.nets import (
    AttentionAugmentedConv2d,
    AttentionDiscriminator,
    DenseSkipGenerator,
    MLPDiscriminator,
    init_weights_,
    maybe_spectral_norm,
    spectral_norm_all,
    spectral_norm_layers,
)
from skgan_ad.nets.dense_skip import default_depth
from skgan_ad.nets.spectral import spectral_norm_hook


def _images(n, channels, size, seed=0):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _seeded(net, seed=0):
    return init_weights_(net, torch.Generator().manual_seed(seed))


def _tiny_nets(size=16, channels=1):
    return [
        _seeded(DenseSkipGenerator(channels, size, ngf=4)),
        _seeded(AttentionDiscriminator(channels, size, ndf=4)),
    ]


def _largest_singular_value(layer, weight):
    return torch.linalg.matrix_norm(spectral_norm_hook(layer).reshape_weight_to_matrix(weight.detach()), ord=2).item()


def _weighted_layers(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]


@pytest.mark.parametrize("spectral_norm", [True, False])
@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_shapes(size, channels, spectral_norm):
    x = _images(2, channels, size)
    gen = DenseSkipGenerator(channels, size, ngf=4, spectral_norm=spectral_norm)
    out = gen(x)
    assert out.shape == x.shape and out.abs().max() <= 1
    assert gen.depth == {8: 1, 16: 2, 32: 3, 64: 4}[size]
    assert bool(spectral_norm_layers(gen)) == spectral_norm


@pytest.mark.parametrize("spectral_norm", [True, False])
@pytest.mark.parametrize("attention", [True, False])
@pytest.mark.parametrize("size", [8, 16, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_discriminator_shapes(size, channels, attention, spectral_norm):
    disc = AttentionDiscriminator(channels, size, ndf=4, attention=attention, spectral_norm=spectral_norm)
    logits, features = disc(_images(2, channels, size))
    assert logits.shape == (2,)
    assert features.shape == (2, disc.feature_channels, 4, 4)
    assert any(isinstance(m, AttentionAugmentedConv2d) for m in disc.modules()) == attention
    assert bool(spectral_norm_layers(disc)) == spectral_norm
    assert not any(isinstance(m, nn.BatchNorm2d) for m in disc.modules())


def test_generator_depth_and_nested_widths():
    assert [default_depth(s) for s in (8, 16, 32, 64, 128, 256)] == [1, 2, 3, 4, 4, 4]
    gen = DenseSkipGenerator(1, 32, ngf=4, spectral_norm=False)  # widths 4, 8, 16, 32
    widths = [4, 8, 16, 32]
    assert sum(len(column) for column in gen.nested) == 3 * 4 // 2
    for j, column in enumerate(gen.nested, start=1):
        # x[i][j] sees j earlier nodes on its level plus the upsampled node below.
        assert [block[0].in_channels for block in column] == [j * widths[i] + widths[i + 1] for i in range(len(column))]
    assert DenseSkipGenerator(1, 8, ngf=4, depth=3)(_images(1, 1, 8)).shape == (1, 1, 8, 8)  # down to 1x1
    with pytest.raises(ValueError, match="depth"):
        DenseSkipGenerator(1, 8, depth=4)
    with pytest.raises(ValueError, match="power of two"):
        DenseSkipGenerator(1, 12)


def test_generator_output_uses_deepest_level():
    gen = _seeded(DenseSkipGenerator(1, 16, ngf=4, spectral_norm=False))
    x = _images(1, 1, 16)
    bottleneck = gen.down[-1][0]
    before = gen(x)
    with torch.no_grad():
        bottleneck.bias.add_(1.0)
    assert not torch.allclose(gen(x), before)


def test_spectral_norm_bounds_every_layer():
    mlp = spectral_norm_all(nn.Sequential(nn.Linear(7, 16), nn.ReLU(), nn.Linear(16, 1)))
    mlp_disc = maybe_spectral_norm(MLPDiscriminator(7, (8, 4)))
    nets = [*_tiny_nets(), _seeded(mlp), _seeded(mlp_disc)]
    inputs = [_images(4, 1, 16), _images(4, 1, 16), torch.randn(4, 7), torch.randn(4, 7)]
    for net, x in zip(nets, inputs):
        layers = spectral_norm_layers(net)
        assert layers == _weighted_layers(net)  # every layer is wrapped
        with torch.no_grad():
            for layer in layers:
                # Raw largest singular value 5, far from 1: only the normalisation can bring it back.
                layer.weight_orig.mul_(5.0 / _largest_singular_value(layer, layer.weight_orig))
        net.train()
        for _ in range(3):
            net(x)
        for layer in layers:
            raw = _largest_singular_value(layer, layer.weight_orig)
            assert raw > 4.0, raw
            assert 0.9 < _largest_singular_value(layer, layer.weight) < 1.1


def test_spectral_norm_helpers():
    layer = nn.Conv2d(2, 3, 3)
    assert maybe_spectral_norm(layer, enabled=False) is layer and not spectral_norm_layers(layer)
    assert spectral_norm_all(spectral_norm_all(layer)) is layer  # idempotent
    assert len(layer._forward_pre_hooks) == 1
    # Usable straight away in eval mode: the constructor already ran power iterations.
    assert 0.9 < _largest_singular_value(layer, layer.weight) < 1.1


def test_attention_mixes_distant_positions():
    torch.manual_seed(0)
    aug = AttentionAugmentedConv2d(2, 8, kernel_size=3, num_heads=2, dk=4, dv=4).eval()
    conv = nn.Conv2d(2, 8, 3, padding=1).eval()
    x = torch.randn(1, 2, 8, 8)
    moved = x.clone()
    moved[..., 0, 0] += 3.0  # top-left pixel
    with torch.no_grad():
        out, out_moved = aug(x), aug(moved)
        plain, plain_moved = conv(x), conv(moved)
    assert out.shape == (1, 8, 8, 8)
    corner = (out_moved - out)[0, :, -1, -1]  # bottom-right position
    assert torch.equal(corner[:4], torch.zeros(4))  # the convolution branch cannot see that far ...
    assert corner[4:].abs().max() > 1e-4  # ... the attention maps do
    assert torch.equal(plain_moved[..., -1, -1], plain[..., -1, -1])


def test_attention_validates_depths():
    with pytest.raises(ValueError, match="multiples of num_heads"):
        AttentionAugmentedConv2d(4, 8, num_heads=4, dk=6, dv=4)
    with pytest.raises(ValueError, match="exceed out_channels"):
        AttentionAugmentedConv2d(4, 8, num_heads=4, dv=12)
    with pytest.raises(ValueError, match="odd"):
        AttentionAugmentedConv2d(4, 8, kernel_size=4)
    full = AttentionAugmentedConv2d(4, 4, num_heads=4)  # dv == out_channels: fully attentional
    assert full.conv is None and full(torch.randn(1, 4, 4, 4)).shape == (1, 4, 4, 4)


def test_init_is_seeded():
    def fresh(global_seed, seed):
        with torch.random.fork_rng():
            torch.manual_seed(global_seed)  # construction draws from the global RNG; init must override all of it
            return _seeded(DenseSkipGenerator(1, 16, ngf=4), seed), _seeded(AttentionDiscriminator(1, 16, ndf=4), seed)

    x = _images(2, 1, 16)
    for a, b, c in zip(fresh(1, 0), fresh(2, 0), fresh(1, 1)):
        state_a, state_b, state_c = a.state_dict(), b.state_dict(), c.state_dict()
        assert any(name.endswith("weight_u") for name in state_a)
        for name in state_a:
            assert torch.equal(state_a[name], state_b[name]), name
        assert not all(torch.equal(state_a[name], state_c[name]) for name in state_a)
        assert torch.equal(a.train()(x)[0], b.train()(x)[0])
        raw = torch.cat([m.weight_orig.flatten() for m in a.modules() if isinstance(m, nn.Conv2d)])
        assert 0.015 < raw.std() < 0.025


@pytest.mark.parametrize("net", _tiny_nets(), ids=["generator", "discriminator"])
def test_eval_output_is_per_sample_and_deterministic(net):
    x = _images(5, 1, 16)
    net.train()
    net(x)  # a training step's power iteration, then freeze
    net.eval()
    buffers = {k: v.clone() for k, v in net.named_buffers()}
    with torch.no_grad():
        batch, alone, again = net(x), net(x[2:3]), net(x)
    for batch_out, alone_out, again_out in zip(*(o if isinstance(o, tuple) else (o,) for o in (batch, alone, again))):
        assert torch.allclose(alone_out, batch_out[2:3], rtol=0, atol=1e-6)
        assert torch.equal(again_out, batch_out)
    for name, value in net.named_buffers():
        assert torch.equal(value, buffers[name]), name  # eval mode never advances the power iteration


@pytest.mark.parametrize("net", _tiny_nets(), ids=["generator", "discriminator"])
def test_deepcopy_float64_and_pickle(net):
    x = _images(2, 1, 16)
    net.eval()
    with torch.no_grad():
        expected = net(x)
        twin = copy.deepcopy(net).to(dtype=torch.float64)
        wide = twin(x.double())
        restored = pickle.loads(pickle.dumps(net))(x)
    for e, w, r in zip(*(o if isinstance(o, tuple) else (o,) for o in (expected, wide, restored))):
        assert w.dtype == torch.float64
        assert torch.allclose(w.float(), e, rtol=0, atol=1e-5)
        assert torch.equal(r, e)
    u_before = [layer.weight_u.clone() for layer in spectral_norm_layers(net)]
    twin.train()(x.double())  # the copy's power iteration must not touch the original's buffers
    assert all(torch.equal(u, layer.weight_u) for u, layer in zip(u_before, spectral_norm_layers(net)))


def test_two_discriminator_passes_backpropagate_without_warnings():
    # A GAN step: D on real and fake in training mode, each pass advancing the power iteration, one backward.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen, disc = _tiny_nets()
        x = _images(3, 1, 16)
        fake = gen.train()(x)
        (real_logits, _), (fake_logits, features) = disc.train()(x), disc(fake)
        (real_logits.sum() - fake_logits.sum() + features.square().mean()).backward()
        assert all(p.grad is not None for p in [*gen.parameters(), *disc.parameters()])
        copy.deepcopy(disc).to(dtype=torch.float64).eval()(x.double())
