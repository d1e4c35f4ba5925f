"""The `openfront` command: one group, one module per command; flags only map onto config."""

from __future__ import annotations

import click

from openfront import __version__
from openfront.cli.api_cmd import api
from openfront.cli.audit_cmd import audit
from openfront.cli.cert_cmd import cert
from openfront.cli.dist_cmd import dist
from openfront.cli.edge_cmd import edge
from openfront.cli.edges_cmd import edges
from openfront.cli.invalidate_cmd import invalidate
from openfront.cli.media_cmd import media
from openfront.cli.mediahub_cmd import mediahub
from openfront.cli.origin_cmd import origin
from openfront.cli.s3_cmd import s3
from openfront.cli.sign_cmd import sign_cookie_cmd, sign_url_cmd
from openfront.cli.storage_cmd import storage
from openfront.cli.up_cmd import up

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="openfront")
def main() -> None:
    """OpenFront: a self-hostable CDN with Amazon CloudFront's caching semantics.

    \b
    Start here:
      openfront up                       run the demo stack (origin + edge), print URLs to try
      openfront edge --config edge.yaml  run an edge from a distribution config file
      openfront edge --origin http://127.0.0.1:8000 --listen 127.0.0.1:8080
                                         run an edge in front of one origin (quick mode)
      openfront invalidate --admin http://127.0.0.1:9090 --token-file data/admin-token '/*'
                                         drop cached objects on a running edge
      openfront sign-url URL --key-pair-id ID --private-key key.pem
                                         sign a URL for a behavior with TrustedKeyGroups
      openfront s3 ls s3://mediahub-ap-northeast-2/
                                         list, copy, presign in a storage region's buckets
      openfront mediahub --region ap-northeast-2 --listen 127.0.0.1:8201 --data data
                                         run one region's MediaHub API (accounts, tokens)
      openfront api --listen 127.0.0.1:9000 --data data
                                         serve the CloudFront API (boto3, aws-cli) on SQL
      openfront media transcode clip.mov out/clip
                                         transcode a video to HLS with poster and thumbnails

    Run `openfront COMMAND --help` for the options of each command; docs/cli.md has examples.
    """


for command in (up, edge, invalidate, origin, sign_url_cmd, sign_cookie_cmd, cert, s3, mediahub):
    main.add_command(command)
for command in (api, audit, dist, edges):
    main.add_command(command)
main.add_command(media)
main.add_command(storage)
