#!/usr/bin/env bash
# The translations: po/POTFILES names every plugin source with user-visible
# text, and every catalogue in po/LINGUAS translates every current message,
# with printf formats that match (msgfmt --check), nothing fuzzy.
#   test-po.sh SOURCE_ROOT
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
root=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/tap.sh"

pot () {
  (cd "$root" && xgettext --keyword=_ --keyword=N_ --from-code=UTF-8 \
     -f po/POTFILES -o "$TMP/mmdnn.pot")
}

# catalogue_ok PO: fails the case unless PO, merged with the current
# messages, has all of them translated, none fuzzy, formats consistent.
catalogue_ok () {
  local po=$1 total stats
  total=$(grep -c '^msgid ' "$TMP/mmdnn.pot")
  total=$((total - 1))                  # the header entry
  msgmerge --quiet --no-fuzzy-matching "$po" "$TMP/mmdnn.pot" \
    -o "$TMP/merged.po" || { fail "msgmerge failed on $po"; return; }
  run msgfmt --check --statistics -o "$TMP/out.mo" "$TMP/merged.po"
  stats=$(cat "$TMP/out" "$TMP/err")
  [ "$rc" = 0 ] || { fail "msgfmt --check refused $po: $stats"; return; }
  case "$stats" in
    *untranslated*|*fuzzy*) fail "$po: $stats"; return ;;
  esac
  case "$stats" in
    "$total translated message"*) ;;
    *) fail "$po: '$stats', expected $total translated messages" ;;
  esac
}

echo "1..5"

potfiles_complete () {
  local f
  for f in "$root"/gst/*.c; do
    if grep -q '_ *("' "$f" \
       && ! grep -qx "gst/$(basename "$f")" "$root/po/POTFILES"; then
      fail "gst/$(basename "$f") has translatable text but is not in po/POTFILES"
    fi
  done
  while read -r f; do
    [ -z "$f" ] || [ -f "$root/$f" ] || fail "po/POTFILES names missing $f"
  done < "$root/po/POTFILES"
}
check potfiles_complete

every_language_complete () {
  local lang
  pot || { fail "xgettext failed"; return; }
  grep -qx 'zh_CN' "$root/po/LINGUAS" || fail "po/LINGUAS lacks zh_CN"
  grep -qx 'en' "$root/po/LINGUAS" || fail "po/LINGUAS lacks en"
  for lang in $(cat "$root/po/LINGUAS"); do
    [ -f "$root/po/$lang.po" ] || { fail "po/$lang.po missing"; continue; }
    catalogue_ok "$root/po/$lang.po"
  done
}
check every_language_complete

# zh_CN is a real translation: its messages are not the English ones
zh_CN_is_chinese () {
  local same
  same=$(msgattrib --no-obsolete "$root/po/zh_CN.po" 2>/dev/null \
         | awk '/^msgid "[^"]/ { id = $0; sub(/^msgid /, "", id) }
                /^msgstr "[^"]/ { s = $0; sub(/^msgstr /, "", s); if (s == id) n++ }
                END { print n + 0 }')
  [ "$same" = 0 ] || fail "$same zh_CN messages are left in English"
  grep -q '无法打开模型文件' "$root/po/zh_CN.po" \
    || fail "zh_CN lacks the model-file error"
}
check zh_CN_is_chinese

# the checks above must catch a catalogue that lags behind the code ...
untranslated_caught_n () {
  local saved_ok
  pot || { fail "xgettext failed"; return; }
  msgattrib --no-obsolete "$root/po/zh_CN.po" \
    | awk 'BEGIN { drop = 0 } /^msgid "Could not open model file/ { drop = 1 }
           drop && /^msgstr/ { print "msgstr \"\""; drop = 0; next } { print }' \
    > "$TMP/lagging.po"
  saved_ok=$ok
  catalogue_ok "$TMP/lagging.po"
  if [ $ok = 1 ]; then ok=0; echo "#   a missing translation went unnoticed"
  else ok=$saved_ok; fi
}
check untranslated_caught_n

# ... and one whose printf format does not match the English one
bad_format_caught_n () {
  local saved_ok
  pot || { fail "xgettext failed"; return; }
  sed 's/无法打开模型文件“%s”/无法打开模型文件“%d”/' "$root/po/zh_CN.po" \
    > "$TMP/badfmt.po"
  saved_ok=$ok
  catalogue_ok "$TMP/badfmt.po"
  if [ $ok = 1 ]; then ok=0; echo "#   a mismatched format went unnoticed"
  else ok=$saved_ok; fi
}
check bad_format_caught_n

[ $failed = 0 ]
