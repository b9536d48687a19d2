# The message contract checked by an independent implementation: check_schemas.py validates
# test_msg's encoder output and the documented examples with python3-jsonschema.
# Included from tests/CMakeLists.txt (so CMAKE_CURRENT_SOURCE_DIR is tests/).
find_program(CRESC_PYTHON3 python3 REQUIRED)
add_test(NAME check_schemas
  COMMAND ${CRESC_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/unit/check_schemas.py $<TARGET_FILE:test_msg>)
set_tests_properties(check_schemas PROPERTIES LABELS unit TIMEOUT 60)
