"""Object storage regions: a managed SeaweedFS `weed mini` per region, or an external S3 store.

`weed` builds the store's command line (pure), `ports` and `credentials` prepare a region's data
dir, `client` makes boto3 clients and readable errors, `provision` keeps buckets as configured,
and `region` ties them into a service the stack's supervisor runs.
"""
