# cmake -DPROGRAM=path -P check_output.cmake: runs the async example and
# fails unless it exits 0 and prints every line below.
execute_process(COMMAND "${PROGRAM}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the async example exited with ${rc}")
endif()
set(expected
  "ok   setup issued a pending secret"
  "store: a compare-and-swap at version [0-9]+ lost the race"
  "two enables: first (success, second TOTP is already enabled|TOTP is already enabled, second success)"
  "ok   exactly one enable succeeded"
  "ok   the loser lost a compare-and-swap and decided again"
  "ok   the other saw TOTP already enabled"
  "ok   the winner got 10 backup codes"
  "event code_replayed"
  "ok   exactly one TOTP login succeeded"
  "event backup_code_used"
  "ok   exactly one backup code login succeeded"
  "ok   a step-up verify succeeded"
  "status: enabled, 9 backup codes remain"
  "ok   regenerate issued 10 new codes"
  "ok   status: not enabled"
  "async example: OK")
foreach(line IN LISTS expected)
  if(NOT out MATCHES "${line}")
    message(FATAL_ERROR "missing from the output: ${line}")
  endif()
endforeach()
if(out MATCHES "FAIL")
  message(FATAL_ERROR "the example reported a failure")
endif()
