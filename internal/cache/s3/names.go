package s3

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// maxObjectName is S3's limit on an object's name, in bytes.
const maxObjectName = 1024

// objectName is where key lives: Root and the key escaped byte by byte. Each byte
// becomes itself or %XX and '%' is always escaped, so the mapping is injective and
// keeps prefixes: objectName(p) starts objectName(k) exactly when p starts k.
func objectName(key string) string {
	return Root + cache.EscapeKey(key)
}

// keyOf is objectName's inverse; ok is false for a name objectName cannot have
// made (an object someone else put under Root), which Load then ignores.
func keyOf(name string) (key string, ok bool) {
	rest, ok := strings.CutPrefix(name, Root)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(rest) {
			return "", false
		}
		v, err := strconv.ParseUint(rest[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	k := b.String()
	return k, objectName(k) == name
}

// checkKey refuses a key that cannot be an object name, or is empty.
func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(objectName(key)) > maxObjectName:
		return fmt.Errorf("key %.40q... is too long for an S3 object name", key)
	}
	return nil
}
