"""The API's settings are fields of `recsys.settings.Settings` (one settings class, one cached
`get_settings()`); this module keeps the key-hashing helper at hand for operators:

    python -m api.settings KEY      prints the SHA-256 digest to put in CRS_API_KEYS
"""

from __future__ import annotations

import sys

from recsys.settings import hash_api_key

__all__ = ["hash_api_key", "main"]


def main(argv: list[str] | None = None) -> int:
    """Print the digest of the key given as the only argument (exit status 2 on a usage error)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0]:
        print("usage: python -m api.settings KEY", file=sys.stderr)
        return 2
    print(hash_api_key(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
