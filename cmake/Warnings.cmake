# The house warning set (../shared/style/warning-flags.txt), applied to every target.
set(CRESC_WARNINGS
  -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
  -Wmissing-prototypes -Wold-style-definition -Wformat=2 -Wformat-security -Wwrite-strings
  -Wvla -Wpointer-arith -Wcast-qual -Wundef -Wimplicit-fallthrough -Wnull-dereference
  -Wdouble-promotion -Wmissing-declarations -Wredundant-decls -Wswitch-enum -Wconversion
  -Wno-sign-conversion -fno-common)
add_compile_options(${CRESC_WARNINGS})
if(CRESC_WERROR)
  add_compile_options(-Werror)
endif()
