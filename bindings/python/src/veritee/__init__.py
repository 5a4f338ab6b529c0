"""veritee: verification of confidential-computing attestation evidence (Intel SGX and TDX DCAP
quotes, AMD SEV-SNP and Azure HCL reports, AWS Nitro Enclaves documents), attestation policies
and the broker client, over the installed libveritee (docs/bindings.md).

    import veritee
    r = veritee.verify(open("quote.bin", "rb").read(), collateral="collateral/",
                       at="2025-06-15T00:00:00Z")
    print(r.status, r.advisory_ids, r.claims["tdx.mrtd"])

Failures raise ``VeriteeError`` with ``code`` (``"VT_E_EXPIRED"``), ``check`` and ``detail``.
"""

from ._errors import BrokerRefused, VeriteeError
from ._verify import Result, Verifier, to_epoch, verify
from ._policy import Policy, PolicyResult, check_claims, claim_type
from ._client import (Attestation, Attester, Client, EvidenceFunction, Release, RuntimeKey,
                      report_data_for)

__version__ = "0.1.0"

__all__ = [
    "verify", "Verifier", "Result", "VeriteeError", "BrokerRefused", "to_epoch",
    "Policy", "PolicyResult", "claim_type", "check_claims",
    "Attester", "RuntimeKey", "Client", "Attestation", "Release", "EvidenceFunction",
    "report_data_for",
]
