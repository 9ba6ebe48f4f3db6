"""``python -m skgan_ad``: the ``skgan-ad`` command line (see :mod:`skgan_ad.cli`)."""

from .cli import main

if __name__ == "__main__":  # not on import, e.g. by pytest's doctest collection
    raise SystemExit(main())
