# Writes the version header at build time, so that the revision follows the
# tree that is built, not the one CMake configured. configure_file() leaves
# the file untouched when its text would not change, so only a new commit
# rebuilds what includes it.
#
# Inputs (-D): SOURCE_DIR, TEMPLATE, OUTPUT, PROJECT_VERSION, REVISION
# (a fixed revision given at configure time, or "unknown" to ask git), GIT.
if(REVISION STREQUAL "unknown" AND GIT)
  execute_process(COMMAND ${GIT} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${SOURCE_DIR}
    OUTPUT_VARIABLE git_revision OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET RESULT_VARIABLE git_result)
  if(git_result EQUAL 0 AND git_revision)
    set(REVISION "${git_revision}")
  endif()
endif()
set(NSEXP_REVISION "${REVISION}")
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)
