#!/usr/bin/env bash
# Deploy the visit-counter SAM app with the aws CLI, as a SAM tutorial does without the SAM CLI:
# package (zip src/ to S3), deploy (change set, transform expanded), then call the API.
# Needs: awslocal (pip install awscli-local) and a sandbox (`crosstrain sandbox up`).
set -euo pipefail
cd "$(dirname "$0")"

STACK="${STACK:-visits}"
ARTIFACTS="${ARTIFACTS:-visits-artifacts}"
ENDPOINT="${AWS_ENDPOINT_URL:-http://localhost:4566}"
PACKAGED="$(mktemp -d)/packaged.yaml"

awslocal s3 mb "s3://${ARTIFACTS}"
awslocal cloudformation package \
  --template-file template.yaml \
  --s3-bucket "${ARTIFACTS}" \
  --output-template-file "${PACKAGED}"
awslocal cloudformation deploy \
  --template-file "${PACKAGED}" \
  --stack-name "${STACK}" \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND

API_ID="$(awslocal cloudformation describe-stacks --stack-name "${STACK}" \
  --query "Stacks[0].Outputs[?OutputKey=='ApiId'].OutputValue" --output text)"
echo "API ${API_ID}"
for _ in 1 2; do
  curl -sf "${ENDPOINT}/restapis/${API_ID}/Prod/_user_request_/visits/home"
  echo
done
