#!/usr/bin/env bash
# docs/claims.md's tables are those the claims registry generates (`veritee claims --markdown`).
set -euo pipefail
veritee=${1:?usage: claims_doc.sh VERITEE}
exec bash "$(dirname "$0")/../../scripts/claims-doc.sh" "$veritee" --check
