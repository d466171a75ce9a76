package portal

import (
	"crypto/sha256"
	_ "embed" // the page's template and stylesheet are part of the binary
	"encoding/base64"
	"html/template"
	"io"
)

var (
	//go:embed web/index.html.tmpl
	indexTemplate string
	//go:embed web/portal.css
	stylesheet string

	pageTemplate = template.Must(template.New("index").Parse(indexTemplate))

	// contentSecurityPolicy lets the page load nothing: no scripts, no external
	// sources, only its own inline stylesheet (by hash) and data: images (the icon).
	contentSecurityPolicy = "default-src 'none'; style-src '" + styleHash() + "'; img-src data:; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// styleHash is the CSP source of the stylesheet: the template inserts it verbatim
// into the page's one <style> element.
func styleHash() string {
	sum := sha256.Sum256([]byte(stylesheet))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageData is the template's data: the page and the stylesheet, which is a constant
// of the binary, never user data.
type pageData struct {
	page
	Style template.CSS
}

// renderPage writes the overview page. Only the embedded stylesheet is passed as
// template.CSS; everything from the documents goes through html/template escaping.
func renderPage(w io.Writer, p page) error {
	return pageTemplate.Execute(w, pageData{page: p, Style: template.CSS(stylesheet)})
}
