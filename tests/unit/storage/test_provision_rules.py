"""What provisioning asks a store for, and how a store's echo is compared with the config."""

from __future__ import annotations

import json

from openfront.config.storage import BucketConfig
from openfront.storage.provision import normalize_cors, normalize_policy, public_read_policy


def test_public_read_covers_only_the_listed_prefixes() -> None:
    policy = public_read_policy("media", ("public/", "thumbs/"))
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OpenFrontPublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::media/public/*", "arn:aws:s3:::media/thumbs/*"],
            }
        ],
    }


def test_no_prefixes_no_policy() -> None:
    assert public_read_policy("media", ()) is None


def test_a_policy_echoed_in_another_shape_is_the_same_policy() -> None:
    mine = public_read_policy("media", ("public/",))
    echoed = json.loads(
        '{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow",'
        '"Principal":{"AWS":"*"},"Action":"s3:GetObject",'
        '"Resource":"arn:aws:s3:::media/public/*"}]}'
    )
    assert normalize_policy(mine) == normalize_policy(echoed)
    wider = {
        **echoed,
        "Statement": [{**echoed["Statement"][0], "Resource": "arn:aws:s3:::media/*"}],
    }
    assert normalize_policy(mine) != normalize_policy(wider)
    assert normalize_policy(None) != normalize_policy(mine)


def test_cors_rules_go_out_in_s3_shape_and_compare_by_content() -> None:
    bucket = BucketConfig.model_validate(
        {
            "Name": "media",
            "CORSRules": [
                {"AllowedOrigins": ["https://a"], "AllowedMethods": ["PUT", "GET"]},
                {
                    "ID": "r2",
                    "AllowedOrigins": ["*"],
                    "AllowedMethods": ["GET"],
                    "MaxAgeSeconds": 0,
                },
            ],
        }
    )
    rules = [rule.to_s3() for rule in bucket.cors_rules]
    assert rules == [
        {"AllowedOrigins": ["https://a"], "AllowedMethods": ["PUT", "GET"]},
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ID": "r2", "MaxAgeSeconds": 0},
    ]
    echoed = [
        {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://a"], "AllowedHeaders": []},
        {"ID": "r2", "AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAgeSeconds": 0},
    ]
    assert normalize_cors(rules) == normalize_cors(echoed)
    assert normalize_cors(rules) != normalize_cors(list(reversed(echoed)))  # order decides
