"""The control plane: CloudFront's REST API over SQL (docs/control-plane.md).

``server.ApiServer`` is the HTTP shell; ``distributions`` and ``invalidations`` are the service
layer over a SQLAlchemy Session; ``compat`` maps CloudFront's API documents onto
``openfront.config.DistributionConfig``; ``xmlcodec``, ``rest`` and ``sigv4`` speak the wire
protocol from botocore's service model.
"""
