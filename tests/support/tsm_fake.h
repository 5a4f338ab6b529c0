/*
 * A stand-in for Linux configfs-tsm (/sys/kernel/config/tsm/report) for the "tsm" attester's
 * tests: a plain directory tree plus a background thread that behaves like the kernel. For every
 * entry made under the root it writes provider and generation ("0"); when the entry's inblob
 * holds 64 bytes it produces the report with a simulator attester (so outblob is a genuine-format
 * TDX quote or SEV-SNP report carrying that inblob as report data), writes auxblob (SNP: a GHCB
 * certificate table holding the VCEK and an ASK entry), bumps generation by one per write
 * (inblob, and privlevel when present), and writes outblob last. Every file appears atomically
 * (written aside, then renamed). Modes inject the kernel misbehaviours the attester must catch.
 */
#ifndef VT_TEST_TSM_FAKE_H
#define VT_TEST_TSM_FAKE_H

#include <veritee/attester.h>

enum vt_tsm_fake_mode {
    VT_TSM_FAKE_OK = 0,
    VT_TSM_FAKE_RACE,             /* generation moves by one more: another writer */
    VT_TSM_FAKE_EMPTY_OUTBLOB,    /* outblob is written empty */
    VT_TSM_FAKE_UNKNOWN_PROVIDER, /* provider "arm_cca_guest" */
    VT_TSM_FAKE_NO_AUXBLOB,       /* SNP without a certificate table */
    VT_TSM_FAKE_BAD_AUXBLOB,      /* a certificate table whose VCEK entry points past its end */
};

struct vt_tsm_fake;

/*
 * Create root (mkdir -p) and start answering. sim: a "sim:tdx" or "sim:snp" attester (borrowed;
 * used only by the fake's thread until vt_tsm_fake_stop). NULL on failure.
 */
struct vt_tsm_fake *vt_tsm_fake_start(const char *root, struct vt_attester *sim,
                                      enum vt_tsm_fake_mode mode);
/* Stop the thread and free. NULL-safe. */
void vt_tsm_fake_stop(struct vt_tsm_fake *f);
/* Reports produced so far; and whether the last one saw a privlevel (its value in *level). */
unsigned vt_tsm_fake_reports(struct vt_tsm_fake *f);
bool vt_tsm_fake_last_privlevel(struct vt_tsm_fake *f, unsigned *level);

#endif
