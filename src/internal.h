/*
 * Everything of libveritee, installed and tree-internal, in one include: for the code above the
 * library that builds against its static archive (the services, the veritee command, tests, fuzz
 * targets, benchmarks). Library code includes the headers it uses instead. Programs outside the
 * tree include <veritee/veritee.h> (the installed API) only.
 */
#ifndef VT_INTERNAL_H
#define VT_INTERNAL_H

#include <veritee/veritee.h>

#include "attester/attester_impl.h"
#include "base/cbor.h"
#include "base/der.h"
#include "base/encoding.h"
#include "base/reader.h"
#include "base/time_check.h"
#include "claims/claims_fill.h"
#include "crypto/cms.h"
#include "crypto/crypto.h"
#include "crypto/x509_make.h"
#include "crypto/jose.h"
#include "log/merkle.h"
#include "tee/collateral/source.h"
#include "tee/dcap/dcap.h"
#include "tee/nitro/nitro.h"
#include "tee/snp/snp.h"
#include "verify/atls_format.h"
#include "verify/bench.h"
#include "verify/evidence.h"
#include "verify/policy_json.h"

#endif
