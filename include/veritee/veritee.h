/* The umbrella header of libveritee. */
#ifndef VERITEE_VERITEE_H
#define VERITEE_VERITEE_H

#include <veritee/attester.h>
#include <veritee/bench.h>
#include <veritee/buf.h>
#include <veritee/cbor.h>
#include <veritee/claims.h>
#include <veritee/collateral.h>
#include <veritee/common.h>
#include <veritee/crypto.h>
#include <veritee/dcap.h>
#include <veritee/der.h>
#include <veritee/encoding.h>
#include <veritee/error.h>
#include <veritee/jose.h>
#include <veritee/limits.h>
#include <veritee/merkle.h>
#include <veritee/nitro.h>
#include <veritee/policy.h>
#include <veritee/cms.h>
#include <veritee/reader.h>
#include <veritee/snp.h>
#include <veritee/time.h>
#include <veritee/verifier.h>
#include <veritee/verify.h>

#define VT_VERSION "0.1.0"

#endif
