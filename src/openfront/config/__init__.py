"""The one typed configuration model: CloudFront-shaped distributions plus OpenFront's edge.

Load with :func:`load_config` (or :func:`quick_config` for ``--origin``), then
:func:`compile_all` into the runtime values of :mod:`openfront.cache.policy`.
"""

from openfront.config.compile import PolicyCatalog, compile_all, compile_distribution
from openfront.config.distribution import (
    AllowedMethods,
    CacheBehavior,
    CustomErrorResponse,
    CustomOriginConfig,
    DefaultCacheBehavior,
    DistributionConfig,
    Origin,
    OriginGroup,
)
from openfront.config.edge import (
    AdminConfig,
    CacheConfig,
    EdgeConfig,
    LimitsConfig,
    LogsConfig,
    parse_listen,
    parse_size,
)
from openfront.config.load import (
    DistributionEntry,
    OpenFrontConfig,
    load_config,
    override_edge,
    parse_config,
    quick_config,
)
from openfront.config.policies import (
    CachePolicy,
    CachePolicyConfig,
    OriginRequestPolicy,
    OriginRequestPolicyConfig,
)
from openfront.config.response_headers import ResponseHeadersPolicy, ResponseHeadersPolicyConfig

__all__ = [
    "AdminConfig",
    "AllowedMethods",
    "CacheBehavior",
    "CacheConfig",
    "CachePolicy",
    "CachePolicyConfig",
    "CustomErrorResponse",
    "CustomOriginConfig",
    "DefaultCacheBehavior",
    "DistributionConfig",
    "DistributionEntry",
    "EdgeConfig",
    "LimitsConfig",
    "LogsConfig",
    "OpenFrontConfig",
    "Origin",
    "OriginGroup",
    "OriginRequestPolicy",
    "OriginRequestPolicyConfig",
    "PolicyCatalog",
    "ResponseHeadersPolicy",
    "ResponseHeadersPolicyConfig",
    "compile_all",
    "compile_distribution",
    "load_config",
    "override_edge",
    "parse_config",
    "parse_listen",
    "parse_size",
    "quick_config",
]
