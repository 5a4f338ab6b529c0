/* Internal to src/tee/snp. */
#ifndef VT_SNP_INTERNAL_H
#define VT_SNP_INTERNAL_H

#include "tee/snp/snp.h"

/* Append the embedded AMD ASKs and ASVKs (Milan, Genoa, Turin) to l. */
enum vt_err vt_snp_builtin_intermediates(struct vt_cert_list *l, struct vt_diag *d);

#endif
