package cache

import (
	"fmt"
	"strings"
)

// EscapeKey is key with every byte outside [A-Za-z0-9._-] written as %XX, for
// backends that store an entry under a name made from its key (a file, an object).
// '%' itself is always escaped, so the mapping is injective, and it keeps prefixes:
// EscapeKey(p) starts EscapeKey(k) exactly when p starts k, which restore by prefix
// relies on.
func EscapeKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
