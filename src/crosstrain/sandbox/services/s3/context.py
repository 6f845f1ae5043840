"""An S3 request as a bucket policy sees it: bucket, key, IAM action and condition context.

Context keys the sandbox fills in (:data:`SUPPLIED`) come from the request itself. Keys AWS only
sets for requests the sandbox never receives (through a VPC endpoint, from an AWS service, inside an
organization, with MFA) are :data:`ABSENT_HERE`: a condition on them sees a missing key, exactly as
AWS does for such a request. Every other key is unknown to the sandbox: it is treated as missing
too, and reported.

``aws:SecureTransport`` is ``true`` for a request that came over TLS. A plain-HTTP request to the
sandbox counts as secure as well unless the sandbox runs with
``CROSSTRAIN_SECURE_TRANSPORT=tls-only``: the sandbox's ``http://`` endpoint stands in for the TLS
endpoints every AWS SDK uses, so code that works on AWS (a CDK bootstrap bucket, an
``enforceSSL`` bucket) works unchanged; ``tls-only`` shows what a plain-HTTP client gets on AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from werkzeug.wrappers import Request

from crosstrain.sandbox.core.policy import global_context
from crosstrain.sandbox.core.tls import tls_only

SUPPLIED = frozenset(
    {
        "aws:securetransport",
        "aws:sourceip",
        "aws:currenttime",
        "aws:epochtime",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principaltype",
        "aws:username",
        "aws:userid",
        "aws:principalisawsservice",
        "aws:requestedregion",
        "aws:useragent",
        "aws:referer",
        "aws:resourceaccount",
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
        "s3:versionid",
        "s3:authtype",
        "s3:signatureversion",
        "s3:signatureage",
        "s3:x-amz-acl",
        "s3:x-amz-content-sha256",
        "s3:x-amz-copy-source",
        "s3:x-amz-metadata-directive",
        "s3:x-amz-server-side-encryption",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:x-amz-storage-class",
        "s3:x-amz-website-redirect-location",
        "s3:tlsversion",
    }
)
ABSENT_HERE = frozenset(
    {
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:vpcsourceip",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalserviceName".lower(),
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:viaawsservice",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:tokenissuetime",
        "aws:federatedprovider",
        "aws:sourceidentity",
        "aws:ec2instancesourceprivateipv4",
        "aws:ec2instancesourcevpc",
        "s3:accesspointnetworkorigin",
        "s3:dataaccesspointaccount",
        "s3:dataaccesspointarn",
    }
)
_TAG_KEYS = ("aws:principaltag/", "aws:requesttag/", "aws:resourcetag/", "s3:existingobjecttag/")
_S3_HOST = re.compile(
    r"^(?P<bucket>.+?)\.(?:s3(?:[.-][a-z0-9-]+)*\.(?:amazonaws\.com(?:\.cn)?|"
    r"localhost\.localstack\.cloud)|localhost)$"
)


def known_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in SUPPLIED or lowered in ABSENT_HERE or lowered.startswith(_TAG_KEYS)


@dataclass
class S3Call:
    """Where an S3 request goes and what it does."""

    bucket: str
    key: str | None
    action: str
    context: dict[str, str | list[str]] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        base = f"arn:aws:s3:::{self.bucket}"
        return f"{base}/{self.key}" if self.key else base


def bucket_and_key(request: Request) -> tuple[str | None, str | None]:
    """The bucket and key a request addresses (virtual-hosted or path style)."""
    host = (request.host or "").rsplit(":", 1)[0].lower()
    path = unquote(request.path)
    match = _S3_HOST.match(host)
    if match:
        return match.group("bucket"), path[1:] or None
    bucket, _, key = path[1:].partition("/")
    return bucket or None, key or None


# (method, query parameter or None) -> IAM action, for requests on a bucket and on an object.
_BUCKET_ACTIONS = {
    "GET": {
        "uploads": "ListBucketMultipartUploads",
        "versions": "ListBucketVersions",
        "location": "GetBucketLocation",
        "policyStatus": "GetBucketPolicyStatus",
        "notification": "GetBucketNotification",
        "cors": "GetBucketCORS",
        "lifecycle": "GetLifecycleConfiguration",
        "encryption": "GetEncryptionConfiguration",
        "publicAccessBlock": "GetBucketPublicAccessBlock",
        "object-lock": "GetBucketObjectLockConfiguration",
        None: "ListBucket",
    },
    "HEAD": {None: "ListBucket"},
    "PUT": {
        "notification": "PutBucketNotification",
        "cors": "PutBucketCORS",
        "lifecycle": "PutLifecycleConfiguration",
        "encryption": "PutEncryptionConfiguration",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "object-lock": "PutBucketObjectLockConfiguration",
        None: "CreateBucket",
    },
    "DELETE": {
        "cors": "PutBucketCORS",
        "lifecycle": "PutLifecycleConfiguration",
        "encryption": "PutEncryptionConfiguration",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        None: "DeleteBucket",
    },
    "POST": {"delete": "DeleteObject", None: "PutObject"},
}
_OBJECT_ACTIONS = {
    "GET": {
        "uploadId": "ListMultipartUploadParts",
        "versionId": "GetObjectVersion",
        None: "GetObject",
    },
    "HEAD": {"versionId": "GetObjectVersion", None: "GetObject"},
    "PUT": {None: "PutObject"},
    "DELETE": {"uploadId": "AbortMultipartUpload", "versionId": "DeleteObjectVersion"},
    "POST": {"restore": "RestoreObject", "select": "GetObject", None: "PutObject"},
}
# Sub-resources whose action is Get/Put/Delete + a name (GetBucketPolicy, PutObjectTagging, ...)
_NAMED = {
    "bucket": {
        "policy": "BucketPolicy",
        "acl": "BucketAcl",
        "tagging": "BucketTagging",
        "versioning": "BucketVersioning",
        "website": "BucketWebsite",
        "logging": "BucketLogging",
        "ownershipControls": "BucketOwnershipControls",
        "accelerate": "AccelerateConfiguration",
        "replication": "ReplicationConfiguration",
        "requestPayment": "BucketRequestPayment",
    },
    "object": {
        "acl": "ObjectAcl",
        "tagging": "ObjectTagging",
        "retention": "ObjectRetention",
        "legal-hold": "ObjectLegalHold",
        "attributes": "ObjectAttributes",
    },
}


def action_of(method: str, args, on_object: bool) -> str:
    """The IAM action (``s3:...``) an S3 REST request performs."""
    table = _OBJECT_ACTIONS if on_object else _BUCKET_ACTIONS
    for name, suffix in _NAMED["object" if on_object else "bucket"].items():
        if name in args:
            verb = {"GET": "Get", "HEAD": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
            if verb:
                if verb == "Delete" and suffix in ("BucketAcl", "ObjectAcl", "BucketVersioning"):
                    continue
                return f"s3:{verb}{suffix}"
    choices = table.get(method, {})
    for param, action in choices.items():
        if param is not None and param in args:
            return f"s3:{action}"
    if on_object and method == "DELETE":
        return "s3:DeleteObject"
    return f"s3:{choices.get(None, 'ListBucket')}"


def _header(request: Request, name: str, context: dict, key: str) -> None:
    value = request.headers.get(name)
    if value:
        context[key] = value


def request_context(request: Request, call: S3Call, principal, region: str | None) -> dict:
    """The condition keys the sandbox supplies for this request."""
    secure = request.scheme == "https" or not tls_only()
    context = global_context(request, principal, region, secure)
    if request.scheme == "https":
        context["s3:TlsVersion"] = "1.3"
    if not principal.anonymous:
        signed_in_query = "X-Amz-Credential" in request.args
        context["s3:authType"] = "REST-QUERY-STRING" if signed_in_query else "REST-HEADER"
        context["s3:signatureversion"] = "AWS4-HMAC-SHA256"
    args = request.args
    if call.key is None and call.action in ("s3:ListBucket", "s3:ListBucketVersions"):
        context["s3:prefix"] = args.get("prefix", "")
        for name in ("delimiter", "max-keys"):
            if name in args:
                context[f"s3:{name}"] = args[name]
    if "versionId" in args:
        context["s3:VersionId"] = args["versionId"]
    for name in (
        "x-amz-acl",
        "x-amz-content-sha256",
        "x-amz-copy-source",
        "x-amz-metadata-directive",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-storage-class",
        "x-amz-website-redirect-location",
    ):
        _header(request, name, context, f"s3:{name}")
    return context
