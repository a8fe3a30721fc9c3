package scaffolder

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// The payload encodings of sealed secrets.
const (
	// EncodingSecret marks a Secrets payload before it is sealed.
	EncodingSecret = "json/backlot-secret"
	// EncodingSealed marks a payload sealed with AES-GCM.
	EncodingSealed = "binary/backlot-sealed"
	metaEncoding   = "encoding"
	metaKeyID      = "backlot-key-id"
	metaInner      = "backlot-inner-encoding"
)

// KeySize is the length of a codec key: AES-256.
const KeySize = 32

// NewDataConverter returns the data converter clients and workers of
// Backlot's workflows share: Temporal's default for every value, except
// Secrets, which are sealed with AES-256-GCM under key before they leave the
// process, so the history, the stock temporal CLI and the server's database
// hold them only as ciphertext. Everything else stays readable there.
func NewDataConverter(key []byte) (converter.DataConverter, error) {
	codec, err := NewSecretCodec(key)
	if err != nil {
		return nil, err
	}
	inner := converter.NewCompositeDataConverter(
		converter.NewNilPayloadConverter(),
		converter.NewByteSlicePayloadConverter(),
		secretPayloadConverter{},
		converter.NewProtoJSONPayloadConverter(),
		converter.NewProtoPayloadConverter(),
		converter.NewJSONPayloadConverter(),
	)
	return converter.NewCodecDataConverter(inner, codec), nil
}

// secretPayloadConverter turns Secrets into payloads marked EncodingSecret,
// which the codec seals; it declines every other value.
type secretPayloadConverter struct{}

// ToPayload marks Secrets; other values are left to the next converter.
func (secretPayloadConverter) ToPayload(v any) (*commonpb.Payload, error) {
	var s Secrets
	switch x := v.(type) {
	case Secrets:
		s = x
	case *Secrets:
		if x != nil {
			s = *x
		}
	default:
		return nil, nil
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return &commonpb.Payload{Metadata: map[string][]byte{metaEncoding: []byte(EncodingSecret)}, Data: raw}, nil
}

// FromPayload reads Secrets back (once the codec opened them).
func (secretPayloadConverter) FromPayload(p *commonpb.Payload, ptr any) error {
	out, ok := ptr.(*Secrets)
	if !ok {
		return fmt.Errorf("secrets: cannot decode into %T", ptr)
	}
	return json.Unmarshal(p.Data, out)
}

// ToString never shows the secrets.
func (secretPayloadConverter) ToString(*commonpb.Payload) string { return "[secrets]" }

// Encoding is EncodingSecret.
func (secretPayloadConverter) Encoding() string { return EncodingSecret }

// SecretCodec seals EncodingSecret payloads with AES-GCM and opens them
// again; other payloads pass through.
type SecretCodec struct {
	aead  cipher.AEAD
	keyID string
}

// NewSecretCodec returns the codec of a KeySize-byte key.
func NewSecretCodec(key []byte) (*SecretCodec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret codec: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	return &SecretCodec{aead: aead, keyID: hex.EncodeToString(sum[:4])}, nil
}

// Encode seals the secret payloads.
func (c *SecretCodec) Encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		if string(p.GetMetadata()[metaEncoding]) != EncodingSecret {
			out[i] = p
			continue
		}
		nonce := make([]byte, c.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{metaEncoding: []byte(EncodingSealed), metaKeyID: []byte(c.keyID), metaInner: []byte(EncodingSecret)},
			Data:     c.aead.Seal(nonce, nonce, p.Data, []byte(c.keyID)),
		}
	}
	return out, nil
}

// Decode opens sealed payloads; one sealed under another key is an error
// that says so.
func (c *SecretCodec) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		if string(p.GetMetadata()[metaEncoding]) != EncodingSealed {
			out[i] = p
			continue
		}
		if id := string(p.Metadata[metaKeyID]); id != c.keyID {
			return nil, fmt.Errorf("secret codec: payload sealed under key %s, this worker has key %s", id, c.keyID)
		}
		n := c.aead.NonceSize()
		if len(p.Data) < n {
			return nil, errors.New("secret codec: sealed payload too short")
		}
		plain, err := c.aead.Open(nil, p.Data[:n], p.Data[n:], []byte(c.keyID))
		if err != nil {
			return nil, fmt.Errorf("secret codec: open: %w", err)
		}
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{metaEncoding: p.Metadata[metaInner]}, Data: plain}
	}
	return out, nil
}
