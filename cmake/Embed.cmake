# Embed a file as a C byte array (used for api/dashboard.html): cmake -DIN=file -DOUT=file.c
# -P Embed.cmake. Writes cresc_dashboard_html_bytes (NUL-terminated) and _size.
file(READ ${IN} CRESC_EMBED_HEX HEX)
string(LENGTH "${CRESC_EMBED_HEX}" CRESC_EMBED_HEXLEN)
math(EXPR CRESC_EMBED_SIZE "${CRESC_EMBED_HEXLEN} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," CRESC_EMBED_BYTES "${CRESC_EMBED_HEX}")
# One line per 32 bytes keeps the generated file readable in a debugger.
string(REGEX REPLACE "((0x..,){32})" "\\1\n" CRESC_EMBED_BYTES "${CRESC_EMBED_BYTES}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN} by cmake/Embed.cmake: do not edit. */\n"
  "#include \"dashboard.h\"\n\n"
  "const unsigned char cresc_dashboard_html_bytes[] = {\n${CRESC_EMBED_BYTES}0x00};\n"
  "const size_t cresc_dashboard_html_size = ${CRESC_EMBED_SIZE};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
