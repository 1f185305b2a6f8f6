package api

import (
	stdjson "encoding/json"
	"io"

	"github.com/danielgtaylor/huma/v2"
	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// responseJSON is encoding/json's behaviour (the v1 options) except that a
// nil slice or map is written as [] or {}, never null: the document declares
// arrays non-nullable, and a handler that leaves a list nil must not break
// that promise. HTML characters are not escaped (as Huma's default).
var responseJSON = json.JoinOptions(
	jsonv1.DefaultOptionsV1(),
	json.FormatNilSliceAsNull(false),
	json.FormatNilMapAsNull(false),
	jsontext.EscapeForHTML(false),
)

// jsonFormat writes responses with responseJSON and reads requests with
// encoding/json, as before.
var jsonFormat = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		if err := json.MarshalWrite(w, v, responseJSON); err != nil {
			return err
		}
		_, err := w.Write([]byte{'\n'}) // as json.Encoder does
		return err
	},
	Unmarshal: stdjson.Unmarshal,
}
