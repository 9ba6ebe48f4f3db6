"""Shapes through every network, for several sizes and channel counts."""

import pytest
import torch

from skgan_ad.nets import DCGANDiscriminator, MLPDiscriminator, SkipMLPGenerator, SkipUNetGenerator, init_weights_


@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_image_networks_shapes(size, channels):
    x = torch.randn(2, channels, size, size)
    gen = SkipUNetGenerator(channels, size, ngf=4)
    out = gen(x)
    assert out.shape == x.shape and out.abs().max() <= 1
    logits, features = DCGANDiscriminator(channels, size, ndf=4)(x)
    assert logits.shape == (2,)
    assert features.shape[-2:] == (4, 4)


def test_widths_are_capped():
    disc = DCGANDiscriminator(1, 256, ndf=2)
    assert disc.feature_channels == 16
    gen = SkipUNetGenerator(1, 256, ngf=2)
    assert max(m.out_channels for m in gen.modules() if isinstance(m, torch.nn.Conv2d)) == 16


def test_unet_uses_every_skip():
    gen = SkipUNetGenerator(1, 16, ngf=4)
    # Up blocks after the innermost take twice the width: the skip is concatenated.
    first_convs = [next(m for m in blk if isinstance(m, torch.nn.ConvTranspose2d)) for blk in gen.up]
    assert [c.in_channels for c in first_convs] == [32, 2 * 16, 2 * 8, 2 * 4]


@pytest.mark.parametrize("size", [4, 12, 0])
def test_bad_sizes_raise(size):
    with pytest.raises(ValueError, match="power of two"):
        DCGANDiscriminator(1, size)


def test_tabular_networks_shapes():
    x = torch.randn(1, 7)  # a batch of one is fine: no BatchNorm
    assert SkipMLPGenerator(7, (5, 3))(x).shape == (1, 7)
    logits, features = MLPDiscriminator(7, (5, 3))(x)
    assert logits.shape == (1,) and features.shape == (1, 3)
    with pytest.raises(ValueError, match="hidden_dims"):
        SkipMLPGenerator(7, ())


def test_init_is_seeded_and_dcgan_like():
    def fresh(seed):
        return init_weights_(SkipUNetGenerator(1, 16, ngf=8), torch.Generator().manual_seed(seed))

    a, b, c = fresh(0), fresh(0), fresh(1)
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(pa, pb), name
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))
    conv_std = torch.cat([m.weight.flatten() for m in a.modules() if isinstance(m, torch.nn.Conv2d)]).std()
    assert 0.015 < conv_std < 0.025


@pytest.mark.parametrize("kind", ["unet", "mlp", "dense"])
def test_forward_with_code_is_forward_and_encode_in_one_pass(kind):
    from skgan_ad.nets import DenseSkipGenerator

    torch.manual_seed(0)
    if kind == "unet":
        net, x = SkipUNetGenerator(1, 16, ngf=4, n_skips=1), torch.randn(3, 1, 16, 16)
    elif kind == "mlp":
        net, x = SkipMLPGenerator(5, (8, 4)), torch.randn(3, 5)
    else:
        net, x = DenseSkipGenerator(1, 16, ngf=4, depth=2), torch.randn(3, 1, 16, 16)
    net.eval()
    with torch.no_grad():
        out, code = net.forward_with_code(x)
        torch.testing.assert_close(out, net(x), rtol=0, atol=0)
        torch.testing.assert_close(code, net.encode(x), rtol=0, atol=0)
