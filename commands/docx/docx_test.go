package docx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// The document is a valid Office Open XML package whose text reads back as
// written, Chinese, markup characters and line breaks included.
func TestWriteAndRead(t *testing.T) {
	d := Document{Title: "《维护技术服务工作报告》", Author: "slakeeper", Created: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		Paragraphs: []string{"客户：星辰数据　事件：#12（核心功能不可用，已关闭）", "处理措施：重启 <NameNode> & 清理 /tmp\n第二行"}}
	b, err := d.Write()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := d.Write()
	if !bytes.Equal(b, again) {
		t.Error("the same document gave other bytes")
	}
	text, err := Text(b)
	if err != nil {
		t.Fatal(err)
	}
	want := "《维护技术服务工作报告》\n客户：星辰数据　事件：#12（核心功能不可用，已关闭）\n处理措施：重启 <NameNode> & 清理 /tmp\n第二行"
	if text != want {
		t.Fatalf("text:\n%q\nwant:\n%q", text, want)
	}
	// Every part is well-formed XML, and the parts a word processor needs
	// are there.
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range z.File {
		names[f.Name] = true
		r, _ := f.Open()
		body, _ := io.ReadAll(r)
		r.Close()
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
		if f.Name == "word/styles.xml" && !strings.Contains(string(body), `w:eastAsia="SimSun"`) {
			t.Error("no East Asian font")
		}
	}
	for _, n := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml", "word/_rels/document.xml.rels"} {
		if !names[n] {
			t.Errorf("no %s", n)
		}
	}
	if _, err := Text([]byte("not a zip")); err == nil {
		t.Error("garbage read as a document")
	}
}
