// The two-factor flow as pure transitions: (record, request, now, config,
// randomness) -> (record to store, response or error, events). The flow's
// types, the account transitions and the challenge transitions each have a
// header of their own; this one includes the three.
#pragma once

#include "mfakit/account_transitions.hpp"
#include "mfakit/challenge_transitions.hpp"
#include "mfakit/flow_types.hpp"
