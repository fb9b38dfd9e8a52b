package feishu

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how far a request's X-Lark-Request-Timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Verify checks the Open Platform's request signature: X-Lark-Signature is
// the hex SHA-256 of timestamp, nonce, Encrypt Key and the raw body,
// compared in constant time, with the timestamp (Unix seconds) within
// MaxSkew of now.
func Verify(encryptKey string, h http.Header, body []byte, now time.Time) bool {
	tsText, nonce := h.Get("X-Lark-Request-Timestamp"), h.Get("X-Lark-Request-Nonce")
	got, err := hex.DecodeString(strings.ToLower(h.Get("X-Lark-Signature")))
	if err != nil || encryptKey == "" || len(got) != sha256.Size {
		return false
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return false
	}
	want := Sign(encryptKey, tsText, nonce, body)
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Sign is the signature Verify expects, as bytes.
func Sign(encryptKey, timestamp, nonce string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(timestamp + nonce + encryptKey))
	h.Write(body)
	return h.Sum(nil)
}

// errDecrypt is any failure to decrypt: the details would only help
// someone probing the key.
var errDecrypt = errors.New("feishu: the encrypted body does not decrypt")

// Decrypt opens an encrypted body's "encrypt" field: base64 of an IV (16
// bytes) followed by AES-256-CBC ciphertext with PKCS#7 padding, the key
// being the SHA-256 of the Encrypt Key.
func Decrypt(encryptKey, encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(raw) < 2*aes.BlockSize || len(raw)%aes.BlockSize != 0 {
		return nil, errDecrypt
	}
	key := sha256.Sum256([]byte(encryptKey))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, errDecrypt
	}
	iv, data := raw[:aes.BlockSize], raw[aes.BlockSize:]
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	n := int(out[len(out)-1])
	if n == 0 || n > aes.BlockSize || n > len(out) {
		return nil, errDecrypt
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errDecrypt
		}
	}
	return out[:len(out)-n], nil
}
