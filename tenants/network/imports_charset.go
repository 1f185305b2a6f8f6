package network

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// Character sets of import files. Chinese Excel saves CSV in GBK (its "CSV
// (逗号分隔)" format, code page 936) unless told "CSV UTF-8"; GB18030 is
// GBK's superset, the national standard.
const (
	CharsetUTF8    = "utf-8"
	CharsetGBK     = "gbk"
	CharsetGB18030 = "gb18030"
)

// Charsets lists the accepted charset names, for messages and the spec.
const Charsets = "utf-8, gbk (also gb2312, cp936), gb18030"

// ParseCharset returns the stored name of a declared character set
// (case-insensitive; "" means undeclared and stays ""), or false when it
// is not one of Charsets.
func ParseCharset(name string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "":
		return "", true
	case "utf-8", "utf8":
		return CharsetUTF8, true
	case "gbk", "gb2312", "cp936", "windows-936", "x-gbk", "euc-cn":
		return CharsetGBK, true
	case "gb18030":
		return CharsetGB18030, true
	}
	return "", false
}

// invalidCharset is the error for a declared charset that is not supported,
// located where it was declared.
func invalidCharset(location, name string) error {
	return tenants.InvalidMsg(location, i18n.M("network.unsupported_charset", "Charsets", Charsets), name)
}

// decodeCharset reads r, stored in charset, as UTF-8. The bytes stored and
// hashed are the file's own; only the reading decodes.
func decodeCharset(charset string, r io.Reader) (io.Reader, error) {
	switch charset {
	case CharsetUTF8, "":
		return r, nil
	case CharsetGBK:
		return transform.NewReader(r, simplifiedchinese.GBK.NewDecoder()), nil
	case CharsetGB18030:
		return transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder()), nil
	}
	return nil, invalidCharset("charset", charset)
}

// sniffBytes is how much of a file detectCharset looks at.
const sniffBytes = 64 << 10

// detectCharset guesses an undeclared file's character set from its start,
// without consuming it: UTF-8 (with or without a byte order mark) when the
// start is valid UTF-8, else GB18030 (which reads GBK too). A file whose
// first 64 KiB are plain ASCII but that is GBK further on is read as UTF-8
// and refused as not UTF-8 naming the line; declaring charset=gbk imports it.
func detectCharset(br *bufio.Reader) string {
	head, _ := br.Peek(sniffBytes)
	if len(head) == sniffBytes { // the last rune may be cut in half
		for i := 0; i < utf8.UTFMax-1 && len(head) > 0; i++ {
			if r, _ := utf8.DecodeLastRune(head); r != utf8.RuneError {
				break
			}
			head = head[:len(head)-1]
		}
	}
	if utf8.Valid(head) {
		return CharsetUTF8
	}
	return CharsetGB18030
}
