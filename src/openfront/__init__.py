"""OpenFront: a self-hostable CDN and media platform with CloudFront semantics."""

__version__ = "0.1.0"
__all__ = ["__version__"]
