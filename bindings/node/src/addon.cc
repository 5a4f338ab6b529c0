// The N-API addon of the veritee Node.js binding: the public C API of libveritee
// (include/veritee/*.h) and nothing else. Verifications run on the libuv thread pool
// (Napi::AsyncWorker); everything that touches JavaScript values runs on the main thread.
// index.js normalises the arguments (files read, times parsed, hex decoded) before they get here.
#include <napi.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <veritee/veritee.h>
}

namespace
{

using Bytes = std::vector<uint8_t>;

// An Error carrying the library's error: code (the symbolic name), number, category, check,
// detail; message "CODE: check: detail".
Napi::Error MakeError(Napi::Env env, vt_err err, const char *check, const char *detail)
{
    std::string msg = vt_err_name(err);
    if (check != nullptr && check[0] != '\0') {
        msg += std::string(": ") + check;
    }
    msg += std::string(": ") + (detail != nullptr ? detail : "");
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("code", Napi::String::New(env, vt_err_name(err)));
    e.Set("number", Napi::Number::New(env, static_cast<double>(err)));
    e.Set("category", Napi::String::New(env, vt_err_category(err)));
    e.Set("check", Napi::String::New(env, check != nullptr ? check : ""));
    e.Set("detail", Napi::String::New(env, detail != nullptr ? detail : ""));
    e.Set("description", Napi::String::New(env, vt_strerror(err)));
    return e;
}

Napi::Error MakeError(Napi::Env env, vt_err err, const vt_diag &d)
{
    return MakeError(env, err, d.check, d.detail);
}

bool ThrowIf(Napi::Env env, vt_err err, const vt_diag &d)
{
    if (err == VT_OK) {
        return false;
    }
    MakeError(env, err, d).ThrowAsJavaScriptException();
    return true;
}

void ThrowType(Napi::Env env, const char *what)
{
    Napi::TypeError::New(env, what).ThrowAsJavaScriptException();
}

// Optional bytes from a Buffer, Uint8Array or null/undefined.
bool OptBytes(const Napi::Value &v, Bytes &out, bool &present)
{
    present = false;
    if (v.IsUndefined() || v.IsNull()) {
        return true;
    }
    if (v.IsTypedArray()) {
        Napi::Uint8Array a = v.As<Napi::Uint8Array>();
        out.assign(a.Data(), a.Data() + a.ByteLength());
        present = true;
        return true;
    }
    return false;
}

// ---- Verifier -------------------------------------------------------------------------------

struct VerifyArgs {
    Bytes evidence;
    Bytes nonce, report_data, vek, chain, crl;
    bool has_nonce = false, has_report_data = false, has_vek = false, has_chain = false,
         has_crl = false;
    vt_verify_opts opts{};
};

// What a verification gives back to JavaScript. The claims are written straight into a
// JavaScript ArrayBuffer (no copy, no finalizer: the garbage collector frees it with the Result)
// and serialised only when JavaScript asks for them. The buffer is type-tagged: functions that
// read claims accept only buffers this addon filled.
struct VerifyOutcome {
    vt_err err = VT_OK;
    vt_diag d{};
    const char *kind = "unknown";
    vt_claims *claims = nullptr;
};

const napi_type_tag kClaimsTag = {0x7665726974656531ULL, 0x636c61696d73a5c3ULL};

Napi::ArrayBuffer NewClaimsBuffer(Napi::Env env)
{
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, sizeof(vt_claims));
    ab.TypeTag(&kClaimsTag);
    return ab;
}

vt_claims *ClaimsOf(const Napi::Value &v)
{
    if (!v.IsArrayBuffer()) {
        return nullptr;
    }
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    if (ab.ByteLength() != sizeof(vt_claims) || !ab.CheckTypeTag(&kClaimsTag)) {
        return nullptr;
    }
    return static_cast<vt_claims *>(ab.Data());
}

struct Pending;

class VerifierWrap : public Napi::ObjectWrap<VerifierWrap>
{
  public:
    static Napi::Function Init(Napi::Env env)
    {
        return DefineClass(env, "NativeVerifier",
                           {InstanceMethod("verify", &VerifierWrap::Verify),
                            InstanceMethod("verifySync", &VerifierWrap::VerifySync),
                            InstanceMethod("close", &VerifierWrap::Close)});
    }

    // new NativeVerifier(collateral: string | null, anchors: string[], timeMode: 0 | 1,
    //                    ttl: number (0 the default, -1 forever))
    VerifierWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<VerifierWrap>(info)
    {
        Napi::Env env = info.Env();
        vt_diag d;
        vt_diag_init(&d);
        if (info.Length() < 4 || !info[2].IsNumber() || !info[3].IsNumber() || !info[1].IsArray()) {
            ThrowType(env, "NativeVerifier(collateral, anchors, timeMode, ttl)");
            return;
        }
        if (info[0].IsString()) {
            std::string src = info[0].As<Napi::String>().Utf8Value();
            if (ThrowIf(env, vt_collateral_source_open(src.c_str(), &source_, &d), d)) {
                return;
            }
        }
        Napi::Array a = info[1].As<Napi::Array>();
        if (a.Length() > 0) {
            std::vector<std::string> files;
            for (uint32_t i = 0; i < a.Length(); i++) {
                files.push_back(a.Get(i).ToString().Utf8Value());
            }
            std::vector<const char *> ptrs;
            for (auto &f : files) {
                ptrs.push_back(f.c_str());
            }
            ptrs.push_back(nullptr);
            if (ThrowIf(env, vt_trust_anchors_load(ptrs.data(), &anchors_, &d), d)) {
                Free();
                return;
            }
        }
        vt_verifier_config cfg{};
        cfg.trust_anchors = anchors_;
        cfg.collateral = source_;
        cfg.time_mode =
            info[2].As<Napi::Number>().Int32Value() == 1 ? VT_TIME_EXPIRY_ONLY : VT_TIME_STRICT;
        double ttl = info[3].As<Napi::Number>().DoubleValue();
        cfg.collateral_ttl = ttl < 0 ? VT_VERIFIER_TTL_FOREVER : static_cast<int64_t>(ttl);
        if (ThrowIf(env, vt_verifier_new(&cfg, &v_, &d), d)) {
            Free();
        }
        // As many work items at once as libuv's pool has threads (it reads the same variable).
        const char *pool = std::getenv("UV_THREADPOOL_SIZE");
        if (pool != nullptr) {
            char *end = nullptr;
            unsigned long n = std::strtoul(pool, &end, 10);
            if (end != pool && *end == '\0' && n >= 1 && n <= 1024) {
                max_workers_ = static_cast<unsigned>(n);
            }
        }
    }

    ~VerifierWrap() override
    {
        Free();
    }

    // Run on any thread: the verification proper.
    void Run(VerifyArgs &a, VerifyOutcome &o) const
    {
        vt_diag_init(&o.d);
        const uint8_t *p = a.evidence.data();
        size_t n = a.evidence.size();
        vt_evidence_kind kind = vt_evidence_detect(p, n);
        vt_buf text;
        vt_buf_init(&text, 2 * VT_MAX_EVIDENCE_SIZE);
        if (kind == VT_EVIDENCE_UNKNOWN) {
            // Hex or base64 text, decoded as `veritee verify` decodes it.
            o.err = vt_buf_append(&text, p, n);
            if (o.err == VT_OK) {
                o.err = vt_evidence_decode_text(&text, &o.d);
            }
            if (o.err != VT_OK) {
                vt_buf_cleanup(&text);
                return;
            }
            p = text.data;
            n = text.len;
            kind = vt_evidence_detect(p, n);
        }
        o.kind = vt_evidence_kind_name(kind);
        o.err = vt_verify(v_, p, n, &a.opts, o.claims, &o.d);
        vt_buf_cleanup(&text);
    }

    static Napi::Value ToJs(Napi::Env env, VerifyOutcome &o, Napi::ArrayBuffer claims)
    {
        if (o.err != VT_OK) {
            Napi::Error e = MakeError(env, o.err, o.d);
            e.Set("evidenceType", Napi::String::New(env, o.kind));
            return e.Value();
        }
        const vt_claims *c = o.claims;
        Napi::Object r = Napi::Object::New(env);
        r.Set("evidenceType", o.kind);
        r.Set("tee", vt_tee_name(c->tee));
        r.Set("status", vt_tcb_status_name(c->status));
        Napi::Array adv = Napi::Array::New(env, c->advisories.n);
        for (size_t i = 0; i < c->advisories.n; i++) {
            adv.Set(static_cast<uint32_t>(i), c->advisories.ids[i]);
        }
        r.Set("advisoryIds", adv);
        r.Set("debug", c->debug);
        r.Set("claims", claims);
        return r;
    }

    void Leave()
    {
        std::lock_guard<std::mutex> g(mu_);
        if (--inflight_ == 0 && closed_) {
            Free();
        }
    }

  private:
    void Free()
    {
        vt_verifier_free(v_);
        v_ = nullptr;
        vt_collateral_source_free(source_);
        source_ = nullptr;
        vt_trust_anchors_free(anchors_);
        anchors_ = nullptr;
    }

    // (evidence: Uint8Array, opts: {now, nonce?, maxAge?, reportData?, vek?, certChain?, crl?})
    bool Parse(const Napi::CallbackInfo &info, VerifyArgs &a)
    {
        Napi::Env env = info.Env();
        bool present = false;
        if (info.Length() < 2 || !info[1].IsObject() || !OptBytes(info[0], a.evidence, present) ||
            !present) {
            ThrowType(env, "verify(evidence: Uint8Array, options)");
            return false;
        }
        Napi::Object o = info[1].As<Napi::Object>();
        Napi::Value now = o.Get("now");
        if (!now.IsNumber()) {
            ThrowType(env, "options.now: unix seconds");
            return false;
        }
        a.opts.now = static_cast<vt_time>(now.As<Napi::Number>().Int64Value());
        struct {
            const char *name;
            Bytes *b;
            bool *has;
        } fields[] = {{"nonce", &a.nonce, &a.has_nonce},
                      {"reportData", &a.report_data, &a.has_report_data},
                      {"vek", &a.vek, &a.has_vek},
                      {"certChain", &a.chain, &a.has_chain},
                      {"crl", &a.crl, &a.has_crl}};
        for (auto &f : fields) {
            if (!OptBytes(o.Get(f.name), *f.b, *f.has)) {
                ThrowType(env, (std::string("options.") + f.name + ": a Buffer").c_str());
                return false;
            }
        }
        Napi::Value max_age = o.Get("maxAge");
        if (max_age.IsNumber()) {
            a.opts.has_max_age = true;
            a.opts.max_age = max_age.As<Napi::Number>().Int64Value();
        }
        if (a.has_nonce) {
            a.opts.nonce = a.nonce.data();
            a.opts.nonce_len = a.nonce.size();
        }
        if (a.has_report_data) {
            a.opts.expect_report_data = a.report_data.data();
            a.opts.expect_report_data_len = a.report_data.size();
        }
        if (a.has_vek) {
            a.opts.vek = a.vek.data();
            a.opts.vek_len = a.vek.size();
        }
        if (a.has_chain) {
            a.opts.snp_chain = a.chain.data();
            a.opts.snp_chain_len = a.chain.size();
        }
        if (a.has_crl) {
            a.opts.snp_crl = a.crl.data();
            a.opts.snp_crl_len = a.crl.size();
        }
        return true;
    }

    bool Enter(Napi::Env env)
    {
        std::lock_guard<std::mutex> g(mu_);
        if (closed_ || v_ == nullptr) {
            MakeError(env, VT_E_STATE, "verifier", "the verifier is closed")
                .ThrowAsJavaScriptException();
            return false;
        }
        inflight_++;
        return true;
    }

    Napi::Value Verify(const Napi::CallbackInfo &info);

  public:
    // The queue of verify() (BatchWorker): main thread pushes, pool threads take.
    Pending *Take();
    void StartWorker(Napi::Env env);
    void WorkerDone(Napi::Env env);

  private:
    Napi::Value VerifySync(const Napi::CallbackInfo &info)
    {
        Napi::Env env = info.Env();
        VerifyArgs a;
        if (!Parse(info, a) || !Enter(env)) {
            return env.Undefined();
        }
        VerifyOutcome o;
        Napi::ArrayBuffer claims = NewClaimsBuffer(env);
        o.claims = static_cast<vt_claims *>(claims.Data());
        Run(a, o);
        Leave();
        Napi::Value r = ToJs(env, o, claims);
        if (o.err != VT_OK) {
            Napi::Error(env, r).ThrowAsJavaScriptException();
            return env.Undefined();
        }
        return r;
    }

    // Frees now, or when the last verification in flight returns.
    Napi::Value Close(const Napi::CallbackInfo &info)
    {
        std::lock_guard<std::mutex> g(mu_);
        closed_ = true;
        if (inflight_ == 0) {
            Free();
        }
        return info.Env().Undefined();
    }

    vt_verifier *v_ = nullptr;
    vt_collateral_source *source_ = nullptr;
    vt_cert_list *anchors_ = nullptr;
    std::mutex mu_;
    unsigned inflight_ = 0;
    bool closed_ = false;
    std::deque<Pending *> queue_;
    unsigned workers_ = 0, max_workers_ = 4;
};

// verify() on the libuv thread pool. Each call becomes a Pending request in its verifier's
// queue; a pool work item (BatchWorker) takes requests from the queue until it is empty or it
// has run kBatchMax of them, then settles their promises on the main thread. One request alone
// is one work item as usual; many in flight share the thread handoffs and the callback into
// JavaScript, which otherwise cost as much as a warm DCAP verification on a loaded core. At most
// as many work items per verifier as the pool has threads (UV_THREADPOOL_SIZE, default 4) run
// at once, so one verifier still uses the whole pool.
struct Pending {
    VerifyArgs args;
    VerifyOutcome out;
    Napi::Promise::Deferred deferred;
    Napi::Reference<Napi::ArrayBuffer> claims;
    explicit Pending(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env))
    {
    }
};

constexpr size_t kBatchMax = 64;

class BatchWorker : public Napi::AsyncWorker
{
  public:
    BatchWorker(Napi::Env env, VerifierWrap *w)
        : Napi::AsyncWorker(env, "veritee.verify", w->Value()), w_(w)
    {
        self_ = Napi::Persistent(w->Value());
    }

    void Execute() override
    {
        while (done_.size() < kBatchMax) {
            Pending *p = w_->Take();
            if (p == nullptr) {
                break;
            }
            w_->Run(p->args, p->out);
            done_.push_back(p);
        }
    }

    void OnOK() override
    {
        Napi::Env env = Env();
        for (Pending *p : done_) {
            Napi::HandleScope scope(env);
            Napi::Value r = VerifierWrap::ToJs(env, p->out, p->claims.Value());
            if (p->out.err != VT_OK) {
                p->deferred.Reject(r);
            } else {
                p->deferred.Resolve(r);
            }
            delete p;
            w_->Leave();
        }
        w_->WorkerDone(env);
    }

  private:
    VerifierWrap *w_;
    std::vector<Pending *> done_;
    Napi::ObjectReference self_;
};

void VerifierWrap::WorkerDone(Napi::Env env)
{
    bool more;
    {
        std::lock_guard<std::mutex> g(mu_);
        workers_--;
        more = !queue_.empty();
    }
    if (more) {
        StartWorker(env);
    }
}

void VerifierWrap::StartWorker(Napi::Env env)
{
    {
        std::lock_guard<std::mutex> g(mu_);
        if (workers_ >= max_workers_) {
            return; // a running worker takes it, or starts another when it is done
        }
        workers_++;
    }
    (new BatchWorker(env, this))->Queue();
}

Pending *VerifierWrap::Take()
{
    std::lock_guard<std::mutex> g(mu_);
    if (queue_.empty()) {
        return nullptr;
    }
    Pending *p = queue_.front();
    queue_.pop_front();
    return p;
}

Napi::Value VerifierWrap::Verify(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    auto *p = new Pending(env);
    if (!Parse(info, p->args) || !Enter(env)) {
        delete p;
        return env.Undefined();
    }
    Napi::ArrayBuffer claims = NewClaimsBuffer(env);
    p->out.claims = static_cast<vt_claims *>(claims.Data()); // stable: V8 never moves it
    p->claims = Napi::Persistent(claims);
    Napi::Promise promise = p->deferred.Promise();
    {
        std::lock_guard<std::mutex> g(mu_);
        queue_.push_back(p);
    }
    StartWorker(env);
    return promise;
}

// ---- time, detection ------------------------------------------------------------------------

Napi::Value ParseTime(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        ThrowType(env, "parseTime(text: string)");
        return env.Undefined();
    }
    std::string s = info[0].As<Napi::String>().Utf8Value();
    vt_time t = 0;
    vt_diag d;
    vt_diag_init(&d);
    if (ThrowIf(env, vt_time_parse_arg(s.data(), s.size(), &t, &d), d)) {
        return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(t));
}

Napi::Value EvidenceKind(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    Bytes b;
    bool present = false;
    if (info.Length() < 1 || !OptBytes(info[0], b, present) || !present) {
        ThrowType(env, "evidenceKind(evidence: Uint8Array)");
        return env.Undefined();
    }
    return Napi::String::New(env, vt_evidence_kind_name(vt_evidence_detect(b.data(), b.size())));
}

// claimsJson(claims: a Result's claims buffer) -> the claims as vt_claims_to_json writes them.
Napi::Value ClaimsJson(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    vt_claims *c = info.Length() > 0 ? ClaimsOf(info[0]) : nullptr;
    if (c == nullptr) {
        ThrowType(env, "claimsJson(claims)");
        return env.Undefined();
    }
    char *json = vt_claims_to_json(c);
    if (json == nullptr) {
        MakeError(env, VT_E_NOMEM, "claims", "cannot serialise the claims")
            .ThrowAsJavaScriptException();
        return env.Undefined();
    }
    Napi::String s = Napi::String::New(env, json);
    free(json);
    return s;
}

// ---- policies -------------------------------------------------------------------------------

class PolicyWrap : public Napi::ObjectWrap<PolicyWrap>
{
  public:
    static Napi::Function Init(Napi::Env env)
    {
        return DefineClass(env, "NativePolicy",
                           {InstanceMethod("evaluate", &PolicyWrap::Evaluate),
                            InstanceMethod("digest", &PolicyWrap::Digest)});
    }

    // new NativePolicy(json: Uint8Array)
    PolicyWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<PolicyWrap>(info)
    {
        Napi::Env env = info.Env();
        Bytes b;
        bool present = false;
        if (info.Length() < 1 || !OptBytes(info[0], b, present) || !present) {
            ThrowType(env, "NativePolicy(json: Uint8Array)");
            return;
        }
        vt_diag d;
        vt_diag_init(&d);
        ThrowIf(env, vt_policy_compile(reinterpret_cast<const char *>(b.data()), b.size(), &p_, &d),
                d);
    }

    ~PolicyWrap() override
    {
        vt_policy_free(p_);
    }

  private:
    // evaluate(claims: a Result's claims buffer (typed claims) | Uint8Array (claims JSON))
    //   -> {allowed, reason, explanation (JSON text)}
    Napi::Value Evaluate(const Napi::CallbackInfo &info)
    {
        Napi::Env env = info.Env();
        Bytes b;
        bool present = false;
        vt_claims *c = info.Length() > 0 ? ClaimsOf(info[0]) : nullptr;
        if (c == nullptr && (info.Length() < 1 || !OptBytes(info[0], b, present) || !present)) {
            ThrowType(env, "evaluate(claims)");
            return env.Undefined();
        }
        vt_policy_result r;
        vt_diag d;
        vt_diag_init(&d);
        vt_err err = c != nullptr ? vt_policy_eval_claims(p_, c, &r, &d)
                                  : vt_policy_eval(p_, reinterpret_cast<const char *>(b.data()),
                                                   b.size(), &r, &d);
        if (ThrowIf(env, err, d)) {
            vt_policy_result_cleanup(&r);
            return env.Undefined();
        }
        Napi::Object o = Napi::Object::New(env);
        o.Set("allowed", r.allowed);
        o.Set("reason", r.reason);
        o.Set("explanation", r.explanation != nullptr ? r.explanation : "[]");
        vt_policy_result_cleanup(&r);
        return o;
    }

    Napi::Value Digest(const Napi::CallbackInfo &info)
    {
        uint8_t out[VT_SHA256_LEN];
        vt_policy_digest(p_, out);
        return Napi::Buffer<uint8_t>::Copy(info.Env(), out, sizeof(out));
    }

    vt_policy *p_ = nullptr;
};

Napi::Value ClaimType(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        ThrowType(env, "claimType(name: string)");
        return env.Undefined();
    }
    const char *t = vt_policy_claim_type(info[0].As<Napi::String>().Utf8Value().c_str());
    return t == nullptr ? env.Null() : Napi::String::New(env, t);
}

Napi::Value CheckClaims(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    Bytes b;
    bool present = false;
    if (info.Length() < 1 || !OptBytes(info[0], b, present) || !present) {
        ThrowType(env, "checkClaims(json: Uint8Array)");
        return env.Undefined();
    }
    vt_diag d;
    vt_diag_init(&d);
    ThrowIf(env, vt_policy_claims_check(reinterpret_cast<const char *>(b.data()), b.size(), &d), d);
    return env.Undefined();
}

// ---- runtime keys, the attester, the broker client -------------------------------------------

class KeyWrap : public Napi::ObjectWrap<KeyWrap>
{
  public:
    static Napi::Function Init(Napi::Env env)
    {
        return DefineClass(env, "NativeKey", {InstanceMethod("publicJson", &KeyWrap::PublicJson)});
    }

    // new NativeKey(type: string)
    KeyWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<KeyWrap>(info)
    {
        Napi::Env env = info.Env();
        if (info.Length() < 1 || !info[0].IsString()) {
            ThrowType(env, "NativeKey(type: string)");
            return;
        }
        vt_diag d;
        vt_diag_init(&d);
        ThrowIf(env, vt_jwk_generate(info[0].As<Napi::String>().Utf8Value().c_str(), &k_, &d), d);
    }

    ~KeyWrap() override
    {
        vt_jwk_free(k_);
    }

    const vt_jwk *Key() const
    {
        return k_;
    }

  private:
    Napi::Value PublicJson(const Napi::CallbackInfo &info)
    {
        char *p = vt_jwk_public_json(k_);
        if (p == nullptr) {
            MakeError(info.Env(), VT_E_NOMEM, "jwk", "no memory").ThrowAsJavaScriptException();
            return info.Env().Undefined();
        }
        Napi::String s = Napi::String::New(info.Env(), p);
        free(p);
        return s;
    }

    vt_jwk *k_ = nullptr;
};

class AttesterWrap : public Napi::ObjectWrap<AttesterWrap>
{
  public:
    static Napi::Function Init(Napi::Env env)
    {
        return DefineClass(env, "NativeAttester",
                           {InstanceMethod("evidenceSync", &AttesterWrap::EvidenceSync),
                            InstanceMethod("backend", &AttesterWrap::Backend),
                            InstanceMethod("tee", &AttesterWrap::Tee),
                            InstanceMethod("close", &AttesterWrap::Close)});
    }

    // new NativeAttester(backend: string, {tsmRoot?, tsmPrivlevel?, tsmWaitMs?, nsmPath?})
    AttesterWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<AttesterWrap>(info)
    {
        Napi::Env env = info.Env();
        if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
            ThrowType(env, "NativeAttester(backend: string, options: object)");
            return;
        }
        Napi::Object o = info[1].As<Napi::Object>();
        vt_attester_opts opts{};
        std::string tsm_root, nsm_path;
        if (o.Get("tsmRoot").IsString()) {
            tsm_root = o.Get("tsmRoot").As<Napi::String>().Utf8Value();
            opts.tsm_root = tsm_root.c_str();
        }
        if (o.Get("tsmPrivlevel").IsNumber()) {
            opts.tsm_set_privlevel = true;
            opts.tsm_privlevel = o.Get("tsmPrivlevel").As<Napi::Number>().Uint32Value();
        }
        if (o.Get("tsmWaitMs").IsNumber()) {
            opts.tsm_wait_ms = o.Get("tsmWaitMs").As<Napi::Number>().Uint32Value();
        }
        if (o.Get("nsmPath").IsString()) {
            nsm_path = o.Get("nsmPath").As<Napi::String>().Utf8Value();
            opts.nsm_path = nsm_path.c_str();
        }
        vt_diag d;
        vt_diag_init(&d);
        ThrowIf(env,
                vt_attester_open(info[0].As<Napi::String>().Utf8Value().c_str(), &opts, &a_, &d),
                d);
    }

    ~AttesterWrap() override
    {
        vt_attester_close(a_);
    }

    vt_attester *Attester() const
    {
        return a_;
    }

  private:
    // evidenceSync(reportData: Uint8Array, nonce?, publicKey?, userData?) -> {evidence, aux}
    Napi::Value EvidenceSync(const Napi::CallbackInfo &info)
    {
        Napi::Env env = info.Env();
        Bytes rd, fields[3];
        bool has_rd = false, has[3] = {false, false, false};
        if (a_ == nullptr) {
            MakeError(env, VT_E_STATE, "attester", "the attester is closed")
                .ThrowAsJavaScriptException();
            return env.Undefined();
        }
        if (!OptBytes(info[0], rd, has_rd) || rd.size() > 64 ||
            !OptBytes(info[1], fields[0], has[0]) || !OptBytes(info[2], fields[1], has[1]) ||
            !OptBytes(info[3], fields[2], has[2])) {
            ThrowType(env,
                      "evidence(reportData (at most 64 bytes), nonce?, publicKey?, userData?)");
            return env.Undefined();
        }
        vt_attester_input in{};
        if (has_rd) {
            memcpy(in.report_data, rd.data(), rd.size());
        }
        if (has[0]) {
            in.nonce = fields[0].data();
            in.nonce_len = fields[0].size();
        }
        if (has[1]) {
            in.public_key = fields[1].data();
            in.public_key_len = fields[1].size();
        }
        if (has[2]) {
            in.user_data = fields[2].data();
            in.user_data_len = fields[2].size();
        }
        vt_buf ev, aux;
        vt_buf_init(&ev, VT_MAX_EVIDENCE_SIZE);
        vt_buf_init(&aux, VT_MAX_COLLATERAL_SIZE);
        vt_diag d;
        vt_diag_init(&d);
        vt_err err = vt_attester_evidence(a_, &in, &ev, &aux, &d);
        Napi::Value out = env.Undefined();
        if (!ThrowIf(env, err, d)) {
            Napi::Object o = Napi::Object::New(env);
            o.Set("evidence", Napi::Buffer<uint8_t>::Copy(env, ev.data, ev.len));
            o.Set("aux", Napi::Buffer<uint8_t>::Copy(env, aux.data, aux.len));
            out = o;
        }
        vt_buf_cleanup(&ev);
        vt_buf_cleanup(&aux);
        return out;
    }

    Napi::Value Backend(const Napi::CallbackInfo &info)
    {
        return Napi::String::New(info.Env(), a_ != nullptr ? vt_attester_backend(a_) : "");
    }

    Napi::Value Tee(const Napi::CallbackInfo &info)
    {
        return Napi::String::New(info.Env(),
                                 vt_tee_name(a_ != nullptr ? vt_attester_tee(a_) : VT_TEE_NONE));
    }

    Napi::Value Close(const Napi::CallbackInfo &info)
    {
        vt_attester_close(a_);
        a_ = nullptr;
        return info.Env().Undefined();
    }

    vt_attester *a_ = nullptr;
};

// Evidence from a JavaScript function (reportData, nonce, spki) -> Buffer | {evidence, vek} |
// a Promise of either, called on the main thread from the worker that runs the client call.
struct JsSource {
    Napi::ThreadSafeFunction tsfn;
    std::mutex m;
    std::condition_variable cv;
    bool done = false, failed = false;
    std::string text;
    Bytes ev, aux;
    Napi::Reference<Napi::Value> error; // main thread only
};

struct JsCall {
    JsSource *s;
    Bytes rd, nonce, spki;
};

void SettleValue(JsSource *s, Napi::Value v)
{
    Bytes ev, aux;
    bool ok = false, present = false;
    if (v.IsTypedArray()) {
        ok = OptBytes(v, ev, present) && present;
    } else if (v.IsObject()) {
        Napi::Object o = v.As<Napi::Object>();
        ok = OptBytes(o.Get("evidence"), ev, present) && present &&
             OptBytes(o.Get("vek"), aux, present);
    }
    std::lock_guard<std::mutex> g(s->m);
    if (ok) {
        s->ev = std::move(ev);
        s->aux = std::move(aux);
    } else {
        s->failed = true;
        s->text = "the evidence function returned neither a Buffer nor {evidence, vek}";
    }
    s->done = true;
    s->cv.notify_all();
}

void SettleError(JsSource *s, Napi::Value e)
{
    std::string text = e.IsObject() ? e.As<Napi::Object>().Get("message").ToString().Utf8Value()
                                    : e.ToString().Utf8Value();
    s->error = Napi::Persistent(e);
    std::lock_guard<std::mutex> g(s->m);
    s->failed = true;
    s->text = text;
    s->done = true;
    s->cv.notify_all();
}

void CallJs(Napi::Env env, Napi::Function fn, JsCall *c)
{
    std::unique_ptr<JsCall> own(c);
    JsSource *s = c->s;
    if (env == nullptr) {
        std::lock_guard<std::mutex> g(s->m);
        s->failed = s->done = true;
        s->text = "the environment is shutting down";
        s->cv.notify_all();
        return;
    }
    Napi::Value r = fn.Call({Napi::Buffer<uint8_t>::Copy(env, c->rd.data(), c->rd.size()),
                             Napi::Buffer<uint8_t>::Copy(env, c->nonce.data(), c->nonce.size()),
                             Napi::Buffer<uint8_t>::Copy(env, c->spki.data(), c->spki.size())});
    if (env.IsExceptionPending()) {
        SettleError(s, env.GetAndClearPendingException().Value());
        return;
    }
    if (r.IsPromise()) {
        Napi::Object p = r.As<Napi::Object>();
        Napi::Function then = p.Get("then").As<Napi::Function>();
        auto ok = Napi::Function::New(
            env,
            [](const Napi::CallbackInfo &info) {
                SettleValue(static_cast<JsSource *>(info.Data()), info[0]);
            },
            "resolved", s);
        auto bad = Napi::Function::New(
            env,
            [](const Napi::CallbackInfo &info) {
                SettleError(static_cast<JsSource *>(info.Data()), info[0]);
            },
            "rejected", s);
        then.Call(p, {ok, bad});
        return;
    }
    SettleValue(s, r);
}

extern "C" vt_err JsEvidence(void *ctx, const uint8_t report_data[64], const uint8_t nonce[32],
                             const uint8_t *spki, size_t spki_len, vt_buf *evidence, vt_buf *vek,
                             vt_diag *d)
{
    auto *s = static_cast<JsSource *>(ctx);
    {
        std::lock_guard<std::mutex> g(s->m);
        s->done = s->failed = false;
    }
    auto *c = new JsCall{s, Bytes(report_data, report_data + 64), Bytes(nonce, nonce + 32),
                         Bytes(spki, spki + spki_len)};
    if (s->tsfn.BlockingCall(c, CallJs) != napi_ok) {
        delete c;
        return vt_fail(d, VT_E_STATE, "client.evidence", "the evidence function cannot be called");
    }
    std::unique_lock<std::mutex> g(s->m);
    s->cv.wait(g, [s] { return s->done; });
    if (s->failed) {
        return vt_fail(d, VT_E_IO, "client.evidence", "%s", s->text.c_str());
    }
    VT_TRY(vt_buf_append(evidence, s->ev.data(), s->ev.size()));
    return s->aux.empty() ? VT_OK : vt_buf_append(vek, s->aux.data(), s->aux.size());
}

class ClientWrap;

// One attest or release on a thread of its own, not the libuv pool: the request waits on the
// network (and on a JavaScript evidence function, which may itself need the pool: fs.promises,
// crypto, dns), so it must not hold a pool thread. The promise settles on the main thread through
// a thread-safe function, which also keeps the event loop alive meanwhile.
class ClientWorker
{
  public:
    ClientWorker(Napi::Env env, vt_client *c, Napi::Object self, Napi::Object key,
                 Napi::Value source, bool release)
        : c_(c), release_(release), deferred_(Napi::Promise::Deferred::New(env))
    {
        done_ = Napi::ThreadSafeFunction::New(
            env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}), "veritee.client", 0,
            1);
        self_ = Napi::Persistent(self);
        key_ = Napi::Persistent(key);
        k_ = KeyWrap::Unwrap(key)->Key();
        vt_buf_init(&secret_, VT_MAX_COLLATERAL_SIZE);
        if (source.IsFunction()) {
            js_ = std::make_unique<JsSource>();
            js_->tsfn = Napi::ThreadSafeFunction::New(env, source.As<Napi::Function>(),
                                                      "veritee.evidence", 0, 1);
            fn_ = JsEvidence;
            ctx_ = js_.get();
        } else if (source.IsObject()) {
            source_ = Napi::Persistent(source.As<Napi::Object>());
            fn_ = vt_client_attester_evidence;
            ctx_ = AttesterWrap::Unwrap(source.As<Napi::Object>())->Attester();
        }
    }

    ~ClientWorker()
    {
        vt_buf_cleanup(&secret_);
        free(token_);
        free(claims_);
        free(receipt_);
    }

    std::string key_name, token;
    bool has_token = false, cms = false;

    Napi::Promise Promise()
    {
        return deferred_.Promise();
    }

    // Runs the request on a new thread; the worker deletes itself on the main thread.
    void Queue()
    {
        std::thread([this] {
            Execute();
            Napi::ThreadSafeFunction done = done_; // *this may be gone once the call is queued
            done.BlockingCall(this, [](Napi::Env env, Napi::Function, ClientWorker *w) {
                if (env != nullptr) { // else the environment is shutting down: nothing to settle
                    w->OnOK(env);
                }
                delete w;
            });
            done.Release();
        }).detach();
    }

    void Execute()
    {
        vt_diag_init(&d_);
        if (release_) {
            err_ = vt_client_release(c_, key_name.c_str(), has_token ? token.c_str() : nullptr, fn_,
                                     ctx_, k_, cms, &secret_, &version_, &receipt_, &st_, &d_);
        } else {
            err_ = vt_client_attest(c_, fn_, ctx_, k_, &token_, &claims_, &st_, &d_);
        }
    }

    void OnOK(Napi::Env env)
    {
        Napi::HandleScope scope(env);
        if (js_) {
            js_->tsfn.Release();
        }
        if (js_ && js_->failed && !js_->error.IsEmpty()) {
            deferred_.Reject(js_->error.Value());
            return;
        }
        if (err_ != VT_OK) {
            Napi::Error e = MakeError(env, err_, d_);
            if (st_.http_status != 0) {
                e.Set("httpStatus", Napi::Number::New(env, static_cast<double>(st_.http_status)));
                e.Set("reason", Napi::String::New(env, st_.reason));
            }
            deferred_.Reject(e.Value());
            return;
        }
        Napi::Object o = Napi::Object::New(env);
        if (release_) {
            o.Set("secret", Napi::Buffer<uint8_t>::Copy(env, secret_.data, secret_.len));
            o.Set("version", Napi::Number::New(env, version_));
            o.Set("receipt", receipt_ != nullptr ? Napi::String::New(env, receipt_) : env.Null());
        } else {
            o.Set("token", Napi::String::New(env, token_));
            o.Set("claims", Napi::String::New(env, claims_));
        }
        deferred_.Resolve(o);
    }

  private:
    vt_client *c_;
    bool release_;
    Napi::Promise::Deferred deferred_;
    Napi::ThreadSafeFunction done_;
    Napi::ObjectReference self_, key_, source_;
    const vt_jwk *k_ = nullptr;
    vt_client_evidence_fn fn_ = nullptr;
    void *ctx_ = nullptr;
    std::unique_ptr<JsSource> js_;
    vt_err err_ = VT_OK;
    vt_diag d_{};
    vt_client_status st_{};
    char *token_ = nullptr, *claims_ = nullptr, *receipt_ = nullptr;
    vt_buf secret_;
    uint32_t version_ = 0;
};

class ClientWrap : public Napi::ObjectWrap<ClientWrap>
{
  public:
    static Napi::FunctionReference *key_ctor;
    static Napi::FunctionReference *attester_ctor;

    static Napi::Function Init(Napi::Env env)
    {
        return DefineClass(env, "NativeClient",
                           {InstanceMethod("attest", &ClientWrap::Attest),
                            InstanceMethod("release", &ClientWrap::Release),
                            InstanceMethod("close", &ClientWrap::Close)});
    }

    // new NativeClient(url, caFile | null, timeoutMs, retries, backoffMs)
    ClientWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ClientWrap>(info)
    {
        Napi::Env env = info.Env();
        if (info.Length() < 5 || !info[0].IsString() || !info[2].IsNumber() ||
            !info[3].IsNumber() || !info[4].IsNumber()) {
            ThrowType(env, "NativeClient(url, caFile, timeoutMs, retries, backoffMs)");
            return;
        }
        std::string url = info[0].As<Napi::String>().Utf8Value();
        std::string ca = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
        vt_client_config cfg{};
        cfg.url = url.c_str();
        cfg.ca_file = info[1].IsString() ? ca.c_str() : nullptr;
        cfg.timeout_ms = static_cast<long>(info[2].As<Napi::Number>().Int64Value());
        cfg.retries = info[3].As<Napi::Number>().Uint32Value();
        cfg.backoff_ms = static_cast<long>(info[4].As<Napi::Number>().Int64Value());
        vt_diag d;
        vt_diag_init(&d);
        ThrowIf(env, vt_client_new(&cfg, &c_, &d), d);
    }

    ~ClientWrap() override
    {
        vt_client_free(c_);
    }

  private:
    bool CheckArgs(Napi::Env env, Napi::Value key, Napi::Value source, bool optional_source)
    {
        if (c_ == nullptr || closed_) {
            MakeError(env, VT_E_STATE, "client", "the client is closed")
                .ThrowAsJavaScriptException();
            return false;
        }
        if (!key.IsObject() || !key.As<Napi::Object>().InstanceOf(key_ctor->Value())) {
            ThrowType(env, "key: a RuntimeKey");
            return false;
        }
        bool src_ok =
            source.IsFunction() ||
            (source.IsObject() && source.As<Napi::Object>().InstanceOf(attester_ctor->Value()) &&
             AttesterWrap::Unwrap(source.As<Napi::Object>())->Attester() != nullptr) ||
            (optional_source && (source.IsNull() || source.IsUndefined()));
        if (!src_ok) {
            ThrowType(env, "evidence: an open Attester or a function");
            return false;
        }
        return true;
    }

    // attest(source, key) -> Promise<{token, claims}>
    Napi::Value Attest(const Napi::CallbackInfo &info)
    {
        Napi::Env env = info.Env();
        if (!CheckArgs(env, info[1], info[0], false)) {
            return env.Undefined();
        }
        auto *w = new ClientWorker(env, c_, Value(), info[1].As<Napi::Object>(), info[0], false);
        w->Queue();
        return w->Promise();
    }

    // release(keyName, key, token | null, source | null, cms) -> Promise<{secret, version,
    // receipt}>
    Napi::Value Release(const Napi::CallbackInfo &info)
    {
        Napi::Env env = info.Env();
        if (!info[0].IsString() || !CheckArgs(env, info[1], info[3], true)) {
            if (!env.IsExceptionPending()) {
                ThrowType(env, "release(keyName, key, token, evidence, cms)");
            }
            return env.Undefined();
        }
        auto *w = new ClientWorker(env, c_, Value(), info[1].As<Napi::Object>(), info[3], true);
        w->key_name = info[0].As<Napi::String>().Utf8Value();
        if (info[2].IsString()) {
            w->token = info[2].As<Napi::String>().Utf8Value();
            w->has_token = true;
        }
        w->cms = info[4].ToBoolean().Value();
        w->Queue();
        return w->Promise();
    }

    // The client is freed with this object (requests in flight hold a reference to it).
    Napi::Value Close(const Napi::CallbackInfo &info)
    {
        closed_ = true;
        return info.Env().Undefined();
    }

    vt_client *c_ = nullptr;
    bool closed_ = false;
};

Napi::FunctionReference *ClientWrap::key_ctor = nullptr;
Napi::FunctionReference *ClientWrap::attester_ctor = nullptr;

Napi::Value ReportData(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    Bytes nonce;
    bool present = false;
    if (info.Length() < 2 || !OptBytes(info[0], nonce, present) || nonce.size() != 32 ||
        !info[1].IsObject() ||
        !info[1].As<Napi::Object>().InstanceOf(ClientWrap::key_ctor->Value())) {
        ThrowType(env, "reportDataFor(nonce: 32 bytes, key: RuntimeKey)");
        return env.Undefined();
    }
    uint8_t out[64];
    vt_diag d;
    vt_diag_init(&d);
    if (ThrowIf(env,
                vt_client_report_data(nonce.data(),
                                      KeyWrap::Unwrap(info[1].As<Napi::Object>())->Key(), out, &d),
                d)) {
        return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, out, sizeof(out));
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
    exports.Set("NativeVerifier", VerifierWrap::Init(env));
    exports.Set("NativePolicy", PolicyWrap::Init(env));
    exports.Set("parseTime", Napi::Function::New(env, ParseTime));
    exports.Set("evidenceKind", Napi::Function::New(env, EvidenceKind));
    exports.Set("claimType", Napi::Function::New(env, ClaimType));
    exports.Set("claimsJson", Napi::Function::New(env, ClaimsJson));
    exports.Set("checkClaims", Napi::Function::New(env, CheckClaims));
    Napi::Function key = KeyWrap::Init(env);
    Napi::Function attester = AttesterWrap::Init(env);
    ClientWrap::key_ctor = new Napi::FunctionReference(Napi::Persistent(key));
    ClientWrap::attester_ctor = new Napi::FunctionReference(Napi::Persistent(attester));
    exports.Set("NativeKey", key);
    exports.Set("NativeAttester", attester);
    exports.Set("NativeClient", ClientWrap::Init(env));
    exports.Set("reportDataFor", Napi::Function::New(env, ReportData));
    exports.Set("version", Napi::String::New(env, VT_VERSION));
    return exports;
}

} // namespace

NODE_API_MODULE(veritee, Init)
