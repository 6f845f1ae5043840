#!/usr/bin/env bash
# Deploy the reports drop zone with awslocal, upload a report, and ask the function to summarize.
# Needs: awslocal (pip install awscli-local) and a sandbox (`crosstrain sandbox up`).
set -euo pipefail
cd "$(dirname "$0")"

STACK="${STACK:-reports}"
ACCOUNT="$(awslocal sts get-caller-identity --query Account --output text)"
BUCKET="reports-${ACCOUNT}"

awslocal cloudformation deploy \
  --template-file template.yaml \
  --stack-name "${STACK}" \
  --parameter-overrides "BucketName=${BUCKET}" \
  --capabilities CAPABILITY_IAM

FUNCTION="$(awslocal cloudformation describe-stacks --stack-name "${STACK}" \
  --query "Stacks[0].Outputs[?OutputKey=='FunctionName'].OutputValue" --output text)"
ROLE="$(awslocal cloudformation describe-stacks --stack-name "${STACK}" \
  --query "Stacks[0].Outputs[?OutputKey=='RoleArn'].OutputValue" --output text)"
echo "role ${ROLE}"
awslocal iam list-attached-role-policies --role-name "${ROLE##*/}" \
  --query "AttachedPolicies[].PolicyArn" --output text

printf 'day,total\n2026-12-07,42\n' > "${TMPDIR:-/tmp}/day.csv"
awslocal s3 cp --only-show-errors "${TMPDIR:-/tmp}/day.csv" "s3://${BUCKET}/reports/2026-12-07.csv"

OUT="$(mktemp)"
awslocal lambda invoke --function-name "${FUNCTION}" "${OUT}" >/dev/null
cat "${OUT}"
echo
