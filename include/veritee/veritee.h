/*
 * The umbrella header of libveritee: the whole installed API. Everything else in the source tree
 * (the bounded reader, DER/CBOR, the crypto boundary, the per-TEE parsers and verifiers) is
 * internal and not exported from libveritee.so (docs/design.md "The installed API").
 */
#ifndef VERITEE_VERITEE_H
#define VERITEE_VERITEE_H

#include <veritee/atls.h>
#include <veritee/attester.h>
#include <veritee/buf.h>
#include <veritee/claims.h>
#include <veritee/client.h>
#include <veritee/collateral.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/limits.h>
#include <veritee/policy.h>
#include <veritee/receipt.h>
#include <veritee/time.h>
#include <veritee/verifier.h>

#define VT_VERSION "0.1.0"

#endif
