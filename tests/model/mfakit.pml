/*
 * mfakit's storage protocol, for Spin. README.md in this
 * folder says how to run it, what each property means and what the buggy
 * variant's counterexample looks like.
 *
 * What it stands for (names as the code has them; "the account-update
 * operation" is the load -> decide -> compare-and-swap loop the service runs
 * for setup/enable/verify/regenerate/disable, "complete_login" the login's
 * second factor on a challenge):
 *   - the store (store.hpp, record_store): load() and compare_and_swap(),
 *     each call one atomic step here, with the faults a real store has;
 *   - the pure decisions (transitions.hpp: flow::enable, flow::verify,
 *     flow::regenerate, flow::disable, detail::gate, detail::with_failure);
 *   - the account-update operation's retry and read-back rules;
 *   - complete_login (check_challenge, the throttle gate, spending an attempt,
 *     the verify, remove_challenge).
 * Every step that touches the store is one Promela step (atomic); what a
 * request computes between two store calls is pure, so it runs inside the
 * step whose result it reads. Interleavings of the requests are therefore
 * exactly the interleavings of their store calls.
 *
 * Bounds (override with -D on the spin -a command line):
 *   MAXF    store faults per run (every kind of fault counts)
 *   MAXR    rounds of the account-update operation (cfg.max_retries)
 *   CLR     rounds of complete_login and of remove_challenge
 *   MAXATT  challenge_max_attempts
 *   THR     failures at which the throttle refuses (throttle_policy)
 * Switches:
 *   BUGGY         the authorship check on a read-back is today's rule
 *                 ("the stored bytes equal mine, so the write was mine")
 *                 instead of the write id
 *   STRICT_SHOWN  P4 as the issue words it, without its exception for a
 *                 request whose read-back load failed (README: P4)
 *   ONLY_P1       check P1 alone (so a counterexample found is a double spend)
 *   NO_CONSUME    passkeys: a login does not consume its ceremony
 *   NO_COUNTER_CAS passkeys: the counter is written whatever the set's version
 *   SCENARIO=n    which requests run (see init at the end; 7-9: passkeys)
 */

#ifdef ONLY_P1
#define CHECK(e) skip
#else
#define CHECK(e) assert(e)
#endif

#ifndef SCENARIO
#define SCENARIO 1
#endif
#ifndef MAXF
#define MAXF 3
#endif
#ifndef MAXR
#define MAXR 3
#endif
#ifndef CLR
#define CLR 2
#endif
#ifndef MAXATT
#define MAXATT 1
#endif
#ifndef THR
#define THR 2
#endif

/* answers: OK success; WRONG code_mismatch or code_replayed (a counted
 * failure); THROTTLED throttled or locked (nothing written); REFUSED
 * not_enabled, not_pending, already_enabled, challenge_invalid or
 * challenge_exhausted; FAILURE storage_failure; CONFLICT storage_conflict
 * (rounds used up); NONE not decided yet */
mtype = { OK, WRONG, THROTTLED, REFUSED, FAILURE, CONFLICT, NONE };

/* account_status */
#define DISABLED 0
#define PENDING  1
#define ENABLED  2

/* requests */
#define ENABLE        1  /* service enable(code): arg = TOTP step of the code, 0 = a wrong code */
#define REGEN         2  /* regenerate_backup_codes */
#define DISABLE       3  /* disable */
#define VERIFY_TOTP   4  /* verify(code, totp) without a challenge (step-up) */
#define VERIFY_BACKUP 5  /* verify(code, backup): arg = 1 + index of a code of the first sheet, 0 = a wrong code */
#define LOGIN_TOTP    6  /* complete_login(token of challenge ch, code, totp) */
#define LOGIN_BACKUP  7  /* complete_login(token of challenge ch, code, backup) */

/* The store. One account record and two challenge records; a version
 * counter shared by every key that only grows (store.hpp's contract). */
byte gver;          /* the store's sequence */
byte faults;        /* faults the store injected so far (bounded by MAXF) */

byte a_ver;         /* account version, never 0 once stored */
byte a_status;      /* account_record::status */
byte a_step;        /* account_record::last_step (0: none) */
byte a_codes;       /* live backup codes: bit i = code i of the set (2 codes) */
byte a_set;         /* code-set id of those codes (1: the sheet shown before the run) */
byte a_fail;        /* account_record::failures */
byte a_wpid;        /* write id: the writer's request ... */
byte a_wseq;        /* ... and its write sequence: fresh for every write */

byte c_ver[2];      /* challenge version, 0 = absent */
byte c_att[2];      /* challenge_record::attempts */

/* Ghost state: what the properties read. Never read by a request's logic. */
byte a_fset;        /* requests whose wrong guess is counted in a_fail */
byte accepted[8];   /* success answers per code: 1..2 TOTP step, 5..6 backup code 0..1 of set 1 */
byte landed_seq[5]; /* per request: the sequence of its last write the store applied */
byte tried[2];      /* per challenge: attempts that reached the account */
byte deleted_by[2]; /* per challenge: the request whose delete the store applied */
byte shown;         /* code sets shown to a user (bit per set id) */
byte unknown;       /* code sets whose request's read-back load failed (it answers storage_failure, blind) */

#define BIT(n) (1 << (n))
#define MYSET (_pid + 1)  /* a request's code-set id: its batch is made once, reused every round */
#define POPCOUNT(x) (((x) >> 1 & 1) + ((x) >> 2 & 1) + ((x) >> 3 & 1) + ((x) >> 4 & 1))

/* ---- the pure decision (transitions.hpp), on the snapshot just loaded ----
 * Sets the next record n_*, d_write (a write is needed), out (the answer if
 * the write is stored), acc_id (the code it accepts), shows (it hands out
 * the code set MYSET). */
inline decide() {
  d_write = 0; acc_id = 0; shows = 0;
  n_status = a_status; n_step = a_step; n_codes = a_codes; n_set = a_set; n_fail = a_fail; n_fset = a_fset;
  if
  :: kind == ENABLE ->                                   /* flow::enable */
     if
     :: a_status != PENDING -> out = REFUSED              /* not_pending / already_enabled */
     :: else ->
        if
        :: a_fail >= THR -> out = THROTTLED               /* detail::gate: no write */
        :: else ->
           if
           :: arg != 0 && arg > a_step ->                 /* check_totp matched a new step */
              n_status = ENABLED; n_step = arg; n_codes = 3; n_set = MYSET; n_fail = 0; n_fset = 0;
              acc_id = arg; shows = 1; out = OK; d_write = 1
           :: else ->                                     /* detail::with_failure */
              n_fail = a_fail + 1; n_fset = a_fset | BIT(_pid); out = WRONG; d_write = 1
           fi
        fi
     fi
  :: kind == REGEN ->                                    /* flow::regenerate */
     if
     :: a_status != ENABLED -> out = REFUSED
     :: else -> n_codes = 3; n_set = MYSET; shows = 1; out = OK; d_write = 1
     fi
  :: kind == DISABLE ->                                  /* flow::disable: account_record{} */
     if
     :: a_status == DISABLED -> out = REFUSED
     :: else -> n_status = DISABLED; n_step = 0; n_codes = 0; n_set = 0; n_fail = 0; n_fset = 0;
                out = OK; d_write = 1
     fi
  :: kind == VERIFY_TOTP || kind == LOGIN_TOTP ||
     kind == VERIFY_BACKUP || kind == LOGIN_BACKUP ->    /* flow::verify */
     if
     :: a_status != ENABLED -> out = REFUSED              /* not_enabled */
     :: else ->
        if
        :: a_fail >= THR -> out = THROTTLED               /* detail::gate: no write */
        :: else ->
           if
           :: (kind == VERIFY_TOTP || kind == LOGIN_TOTP) && arg != 0 && arg > a_step ->
              n_step = arg; n_fail = 0; n_fset = 0; acc_id = arg; out = OK; d_write = 1
           :: (kind == VERIFY_BACKUP || kind == LOGIN_BACKUP) && arg != 0 &&
              a_set == 1 && (a_codes & BIT(arg - 1)) != 0 ->
              n_codes = a_codes & ~BIT(arg - 1); n_fail = 0; n_fset = 0; acc_id = 4 + arg; out = OK; d_write = 1
           :: else ->                                     /* mismatch, replayed, or not a live code */
              n_fail = a_fail + 1; n_fset = a_fset | BIT(_pid); out = WRONG; d_write = 1
           fi
        fi
     fi
  fi
}

/* store.compare_and_swap(account key, l_ver, next): res 1 = true, 0 = false,
 * 2 = an error (with or without effect). */
inline cas_account() {
  atomic {
    myseq++;                                             /* a fresh write id for this write */
    if
    :: a_ver == l_ver ->
       if
       :: res = 1                                         /* written, true */
       :: faults < MAXF -> faults++; res = 2              /* written, then the answer is lost */
       :: faults < MAXF -> faults++; res = 3              /* failed, nothing written */
       fi;
       if
       :: res != 3 ->
          gver++; a_ver = gver;
          a_status = n_status; a_step = n_step; a_codes = n_codes; a_set = n_set; a_fail = n_fail;
          a_wpid = _pid; a_wseq = myseq; a_fset = n_fset;
          landed_seq[_pid] = myseq;
          printf("MSC: req %d: account written v%d (status %d step %d codes %d/set %d failures %d), store answers %d\n",
                 _pid, a_ver, a_status, a_step, a_codes, a_set, a_fail, res);
          CHECK(a_fail == POPCOUNT(a_fset))               /* P3: no wrong guess counted twice */
       :: else -> res = 2; printf("MSC: req %d: account CAS fails, nothing written\n", _pid)
       fi
    :: else ->
       if
       :: res = 0; printf("MSC: req %d: account CAS lost the race (false)\n", _pid)
       :: faults < MAXF -> faults++; res = 2;
          printf("MSC: req %d: account CAS lost the race, reported as an error\n", _pid)
       fi
    fi
  }
}

/* The read-back after a CAS error: res 1 = answer the decision, 0 = next
 * round, 3 = storage_failure. */
inline read_back() {
  atomic {
    if
    :: faults < MAXF -> faults++; res = 3; printf("MSC: req %d: read-back load fails\n", _pid);
       if :: shows -> unknown = unknown | BIT(MYSET) :: else fi  /* P4: my codes may be live, I cannot know */
    :: true ->
#ifdef BUGGY
       /* today's rule (service.hpp, landed()): the stored bytes equal mine */
       if
       :: a_status == n_status && a_step == n_step && a_codes == n_codes && a_set == n_set && a_fail == n_fail -> res = 1
#else
       if
       :: a_wpid == _pid && a_wseq == myseq -> res = 1    /* the stored write id is mine */
#endif
       :: else ->
          if
          :: a_ver == l_ver -> res = 0                    /* nothing landed: next round */
          :: else ->
             if
             :: shows && a_set == MYSET -> res = 1        /* a later write kept my codes */
             :: else -> res = 3
             fi
          fi
       fi;
       printf("MSC: req %d: read-back sees v%d written by req %d: %d (1 mine, 0 retry, 3 failure)\n",
              _pid, a_ver, a_wpid, res)
    fi
  }
}

/* The account-update operation. preloaded: the first round decides on the
 * account complete_login loaded (n_*, l_ver, out already set). */
inline account_update() {
  round = 0;
  do
  :: round >= MAXR -> out = CONFLICT; break
  :: else ->
     if
     :: preloaded -> preloaded = 0
     :: else ->
        atomic {                                          /* load -> decide */
          if
          :: faults < MAXF -> faults++; out = FAILURE; d_write = 0;
             printf("MSC: req %d: account load fails\n", _pid)
          :: true -> l_ver = a_ver; decide();
             printf("MSC: req %d: loads account v%d (step %d codes %d/set %d failures %d), decides %e\n",
                    _pid, l_ver, a_step, a_codes, a_set, a_fail, out)
          fi
        }
     fi;
     if
     :: out == FAILURE || !d_write -> break              /* load error, or a refusal: no write */
     :: else ->
        cas_account();
        if
        :: res == 1 -> break                              /* stored: answer the decision */
        :: res == 0 -> round++                            /* lost the race: decide again */
        :: res == 2 ->
           read_back();
           if
           :: res == 1 -> break
           :: res == 0 -> round++
           :: res == 3 -> out = FAILURE; break
           fi
        fi
     fi
  od;
  atomic {                                                /* the operation's answer */
    printf("MSC: req %d: account-update answers %e\n", _pid, out);
    if
    :: out == OK && acc_id != 0 ->
       accepted[acc_id]++;
       assert(accepted[acc_id] <= 1)                      /* P1: no code accepted twice */
    :: else
    fi;
    CHECK(out != OK || !d_write || landed_seq[_pid] == myseq);  /* P2: success only if my write was stored */
    CHECK(out != WRONG || landed_seq[_pid] == myseq);     /* P3: a wrong guess answered is counted */
    if :: out == OK && shows -> shown = shown | BIT(MYSET) :: else fi
  }
}

proctype request(byte kind; byte arg; byte ch) {
  byte myseq, round, res, l_ver, acc_id, cv, cl_round;
  mtype out = NONE;
  byte n_status, n_step, n_codes, n_set, n_fail, n_fset;
  bool d_write, shows, preloaded;

  if
  :: kind < LOGIN_TOTP -> account_update()
  :: else ->                                              /* complete_login */
     cl_round = 0;
     do
     :: cl_round >= CLR -> out = CONFLICT; break
     :: else ->
        atomic {                                          /* 1. load the challenge, check_challenge */
          out = NONE;
          if
          :: faults < MAXF -> faults++; out = FAILURE
          :: true ->
             if
             :: c_ver[ch] == 0 -> out = REFUSED           /* challenge_invalid */
             :: c_ver[ch] != 0 && c_att[ch] >= MAXATT -> out = REFUSED  /* challenge_exhausted */
             :: else -> cv = c_ver[ch]
             fi
          fi
        }
        if :: out != NONE -> break :: else fi;
        atomic {                                          /* 2. load the account: enabled? throttled? */
          if
          :: faults < MAXF -> faults++; out = FAILURE
          :: true ->
             if
             :: a_status != ENABLED -> out = REFUSED      /* challenge_invalid */
             :: a_status == ENABLED && a_fail >= THR -> out = THROTTLED  /* no attempt spent */
             :: else -> l_ver = a_ver; decide(); preloaded = 1;  /* the verify's first round decides on it */
                printf("MSC: req %d: loads account v%d (step %d codes %d/set %d failures %d), decides %e\n",
                       _pid, l_ver, a_step, a_codes, a_set, a_fail, out)
             fi
          fi
        }
        if :: out == FAILURE || out == REFUSED || out == THROTTLED -> break :: else fi;
        atomic {                                          /* 3. spend an attempt: CAS the challenge */
          if
          :: c_ver[ch] == cv ->
             if
             :: res = 1
             :: faults < MAXF -> faults++; res = 2        /* written, answer lost */
             :: faults < MAXF -> faults++; res = 3        /* failed, nothing written */
             fi;
             if
             :: res != 3 -> gver++; c_ver[ch] = gver; c_att[ch]++
             :: else -> res = 2
             fi;
             printf("MSC: req %d: challenge %d attempt spent (v%d), store answers %d\n", _pid, ch, c_ver[ch], res)
          :: else ->
             if
             :: res = 0
             :: faults < MAXF -> faults++; res = 2
             fi
          fi;
          if
          :: res == 1 -> tried[ch]++;
             CHECK(tried[ch] <= MAXATT)                   /* P5: no more attempts than allowed */
          :: else
          fi
        }
        if
        :: res == 0 -> cl_round++; preloaded = 0          /* another attempt raced us: start over */
        :: res == 2 -> out = FAILURE; break
        :: res == 1 ->
           account_update();                              /* 4. verify against the account */
           if
           :: out != OK -> break
           :: else
           fi;
           round = 0;                                     /* 5. remove_challenge */
           do
           :: round >= CLR -> out = CONFLICT; break
           :: else ->
              atomic {
                if
                :: faults < MAXF -> faults++; out = FAILURE
                :: true ->
                   if
                   :: c_ver[ch] == 0 -> out = REFUSED     /* challenge_invalid */
                   :: else -> cv = c_ver[ch]
                   fi
                fi
              }
              if :: out != OK -> break :: else fi;
              atomic {                                    /* CAS(key, cv, nullopt): delete */
                if
                :: c_ver[ch] == cv ->
                   if
                   :: res = 1
                   :: faults < MAXF -> faults++; res = 2
                   :: faults < MAXF -> faults++; res = 3
                   fi;
                   if
                   :: res != 3 -> c_ver[ch] = 0; deleted_by[ch] = _pid
                   :: else -> res = 2
                   fi;
                   printf("MSC: req %d: challenge %d delete, store answers %d\n", _pid, ch, res)
                :: else ->
                   if
                   :: res = 0
                   :: faults < MAXF -> faults++; res = 2
                   fi
                fi
              }
              if
              :: res == 1 -> break
              :: res == 0 -> round++
              :: res == 2 -> out = FAILURE; break
              fi
           od;
           break
        fi
     od;
     atomic {                                             /* complete_login's answer */
       printf("MSC: req %d: complete_login answers %e\n", _pid, out);
       CHECK(out != OK || (c_ver[ch] == 0 && deleted_by[ch] == _pid))  /* a login only with the delete stored */
     }
  fi
}

/* ---- passkeys (operations/passkey.hpp: passkey_login_operation) ----------
 * Two ceremony records (k_*: a login ceremony, used or not, and the write
 * id of its last write) and the user's passkey set (s_*: one credential's
 * stored counter). A login: 1. load the ceremony (absent or used: refused);
 * 2. load the index and the set (one step: the index is never written by a
 * login), verify the assertion: the counter rule (counter_ok); 3. consume
 * the ceremony: CAS(ceremony, loaded version, used + my write id), false:
 * refused (used by another request), an error: the read-back; 4. write the
 * counter: CAS(set, loaded version, counter + my write id), true: the login,
 * false: reload the set, the counter rule again on the new stored value, and
 * write again (MAXR rounds, then storage_conflict), an error: the read-back.
 * The read-back (passkey_steps::on_load): load again; my write id: the
 * write was mine; the version I loaded: nothing landed, the same write
 * again (within MAXR rounds); anything else: storage_failure.
 * Switches: NO_CONSUME drops step 3; NO_COUNTER_CAS writes the set
 * whatever its version (a read-then-write store, or a counter update
 * without a version check); BUGGY takes a stored counter equal to the one
 * written for the request's own write on the set's read-back. */
byte k_ver[2];      /* ceremony version, 0 = absent */
bool k_used[2];     /* ceremony_record::consumed */
byte k_wpid[2];     /* its write id: request ... */
byte k_wseq[2];     /* ... and write sequence */
byte s_ver;         /* the passkey set's version */
byte s_cnt;         /* the credential's stored counter */
byte s_wpid;
byte s_wseq;
/* ghost */
byte pk_logins[2];  /* login answers per ceremony */
byte pk_acc[4];     /* login answers per (non-zero) counter value */
byte pk_landed[5];  /* per request: the sequence of its last set write the store applied */

#define REGRESSED THROTTLED  /* webauthn_counter_regressed (nothing written) */
#define COUNTER_OK(stored, got) (((stored) == 0 && (got) == 0) || (got) > (stored))

/* CAS of ceremony ch from version kv to "used" (res as cas_account) */
inline cas_ceremony() {
  atomic {
    myseq++;
    if
    :: k_ver[ch] == kv ->
       if
       :: res = 1
       :: faults < MAXF -> faults++; res = 2
       :: faults < MAXF -> faults++; res = 3
       fi;
       if
       :: res != 3 -> gver++; k_ver[ch] = gver; k_used[ch] = 1; k_wpid[ch] = _pid; k_wseq[ch] = myseq;
          printf("MSC: req %d: ceremony %d consumed v%d, store answers %d\n", _pid, ch, k_ver[ch], res)
       :: else -> res = 2; printf("MSC: req %d: ceremony CAS fails, nothing written\n", _pid)
       fi
    :: else ->
       if
       :: res = 0; printf("MSC: req %d: ceremony CAS lost the race (false)\n", _pid)
       :: faults < MAXF -> faults++; res = 2; printf("MSC: req %d: ceremony CAS lost the race, reported as an error\n", _pid)
       fi
    fi
  }
}

/* CAS of the set from version l_ver to counter cnt */
inline cas_set() {
  atomic {
    myseq++;
    if
#ifdef NO_COUNTER_CAS
    :: true ->
#else
    :: s_ver == l_ver ->
#endif
       if
       :: res = 1
       :: faults < MAXF -> faults++; res = 2
       :: faults < MAXF -> faults++; res = 3
       fi;
       if
       :: res != 3 ->
          CHECK(cnt >= s_cnt);                            /* P7: the stored counter never goes back */
          gver++; s_ver = gver; s_cnt = cnt; s_wpid = _pid; s_wseq = myseq; pk_landed[_pid] = myseq;
          printf("MSC: req %d: set written v%d (counter %d), store answers %d\n", _pid, s_ver, s_cnt, res)
       :: else -> res = 2; printf("MSC: req %d: set CAS fails, nothing written\n", _pid)
       fi
#ifndef NO_COUNTER_CAS
    :: else ->
       if
       :: res = 0; printf("MSC: req %d: set CAS lost the race (false)\n", _pid)
       :: faults < MAXF -> faults++; res = 2; printf("MSC: req %d: set CAS lost the race, reported as an error\n", _pid)
       fi
#endif
    fi
  }
}

proctype pk_login(byte ch; byte cnt) {
  byte myseq, round, res, kv, l_ver;
  mtype out = NONE;
  atomic {                                                /* 1. the ceremony */
    if
    :: faults < MAXF -> faults++; out = FAILURE
    :: true ->
       if
       :: k_ver[ch] == 0 || k_used[ch] -> out = REFUSED   /* webauthn_rejected */
       :: else -> kv = k_ver[ch]
       fi
    fi
  }
  if :: out != NONE -> goto answer :: else fi;
  atomic {                                                /* 2. index and set; verify, the counter rule */
    if
    :: faults < MAXF -> faults++; out = FAILURE
    :: true ->
       l_ver = s_ver;
       if :: !COUNTER_OK(s_cnt, cnt) -> out = REGRESSED :: else fi;
       printf("MSC: req %d: loads set v%d (counter %d), signed %d: %e\n", _pid, l_ver, s_cnt, cnt, out)
    fi
  }
  if :: out != NONE -> goto answer :: else fi;
#ifndef NO_CONSUME
  round = 0;
  do                                                      /* 3. consume the ceremony */
  :: round >= MAXR -> out = CONFLICT; break
  :: else ->
     cas_ceremony();
     if
     :: res == 1 -> break
     :: res == 0 -> out = REFUSED; break                  /* used by another request */
     :: res == 2 ->
        atomic {                                          /* the read-back */
          if
          :: faults < MAXF -> faults++; out = FAILURE
          :: true ->
             if
             :: k_wpid[ch] == _pid && k_wseq[ch] == myseq -> res = 1
             :: else ->
                if
                :: k_ver[ch] == kv -> round++; res = 0    /* nothing landed: again */
                :: else -> out = FAILURE
                fi
             fi
          fi
        }
        if :: out != NONE || res == 1 -> break :: else fi
     fi
  od;
  if :: out != NONE -> goto answer :: else fi;
#endif
  round = 0;
  do                                                      /* 4. the counter */
  :: round >= MAXR -> out = CONFLICT; break
  :: else ->
     cas_set();
     if
     :: res == 1 -> out = OK; break
     :: res == 0 ->
        round++;
        atomic {                                          /* reload, the counter rule again */
          if
          :: faults < MAXF -> faults++; out = FAILURE
          :: true -> l_ver = s_ver; if :: !COUNTER_OK(s_cnt, cnt) -> out = REGRESSED :: else fi
          fi
        }
        if :: out != NONE -> break :: else fi
     :: res == 2 ->
        atomic {                                          /* the read-back */
          if
          :: faults < MAXF -> faults++; out = FAILURE
          :: true ->
             if
#ifdef BUGGY
             :: s_cnt == cnt -> out = OK                  /* "the stored bytes equal mine" */
#else
             :: s_wpid == _pid && s_wseq == myseq -> out = OK
#endif
             :: else ->
                if
                :: s_ver == l_ver -> round++              /* nothing landed: the same write again */
                :: else -> out = FAILURE
                fi
             fi
          fi
        }
        if :: out != NONE -> break :: else fi
     fi
  od;
answer:
  atomic {
    printf("MSC: req %d: passkey login (ceremony %d, counter %d) answers %e\n", _pid, ch, cnt, out);
    if
    :: out == OK ->
       CHECK(pk_landed[_pid] == myseq);                   /* a login only with its own counter write stored */
       pk_logins[ch]++;
       assert(pk_logins[ch] <= 1);                        /* P6: at most one login per ceremony */
       if
       :: cnt != 0 -> pk_acc[cnt]++; assert(pk_acc[cnt] <= 1)  /* P8: no two logins with one non-zero counter value */
       :: else
       fi
    :: else
    fi
  }
}

/* Two login ceremonies (fresh) and a credential whose stored counter is c. */
inline passkey_state(c) {
  k_ver[0] = 1; k_ver[1] = 2; s_ver = 3; s_cnt = c; gver = 3
}

/* The state before the requests: an enabled account whose first sheet
 * (set 1, both codes live) the user has seen, and two fresh challenges. */
inline enabled_account() {
  a_status = ENABLED; a_step = 0; a_codes = 3; a_set = 1; a_fail = 0;
  a_ver = 1; c_ver[0] = 2; c_ver[1] = 3; gver = 3; shown = BIT(1)
}
/* After setup: a pending secret, nothing else. */
inline pending_account() {
  a_status = PENDING; a_ver = 1; gver = 1
}

init {
  atomic {
#if SCENARIO == 1
    /* TOTP: two logins on two challenges with the same code, a wrong guess on the first challenge */
    enabled_account();
    run request(LOGIN_TOTP, 1, 0); run request(LOGIN_TOTP, 1, 1); run request(LOGIN_TOTP, 0, 0)
#elif SCENARIO == 2
    /* backup codes: one code redeemed twice (two challenges), and a regenerate */
    enabled_account();
    run request(LOGIN_BACKUP, 1, 0); run request(LOGIN_BACKUP, 1, 1); run request(REGEN, 0, 0)
#elif SCENARIO == 3
    /* enable with the code that a step-up verify also sends, and a regenerate */
    pending_account();
    run request(ENABLE, 1, 0); run request(VERIFY_TOTP, 1, 0); run request(REGEN, 0, 0)
#elif SCENARIO == 4
    /* enable, a wrong enable code, disable */
    pending_account();
    run request(ENABLE, 1, 0); run request(ENABLE, 0, 0); run request(DISABLE, 0, 0)
#elif SCENARIO == 5
    /* wrong guesses: a login and a step-up verify with wrong codes, a backup-code login */
    enabled_account();
    run request(LOGIN_TOTP, 0, 0); run request(VERIFY_TOTP, 0, 0); run request(LOGIN_BACKUP, 2, 1)
#elif SCENARIO == 6
    /* a backup code redeemed twice without challenges, and disable */
    enabled_account();
    run request(VERIFY_BACKUP, 1, 0); run request(VERIFY_BACKUP, 1, 0); run request(DISABLE, 0, 0)
#elif SCENARIO == 7
    /* passkeys: one assertion posted twice (one ceremony), a synced passkey
     * (counter 0: only the ceremony's single use stops the second) */
    passkey_state(0);
    run pk_login(0, 0); run pk_login(0, 0)
#elif SCENARIO == 8
    /* passkeys: a cloned credential, one counter value (2, stored 1) on two
     * ceremonies, and the next value (3) on the first one */
    passkey_state(1);
    run pk_login(0, 2); run pk_login(1, 2); run pk_login(0, 3)
#elif SCENARIO == 9
    /* passkeys: the same, two assertions only (the switches' counterexamples) */
    passkey_state(1);
    run pk_login(0, 2); run pk_login(1, 2)
#endif
  }
  (_nr_pr == 1) ->                                        /* every request has answered */
  CHECK(a_fail == POPCOUNT(a_fset));
#ifdef STRICT_SHOWN
  CHECK(a_status != ENABLED || a_codes == 0 || (shown & BIT(a_set)) != 0)  /* P4, as worded */
#else
  CHECK(a_status != ENABLED || a_codes == 0 || (shown & BIT(a_set)) != 0 || (unknown & BIT(a_set)) != 0)  /* P4 */
#endif
}
