package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"io"
	"os"
	"sort"
	"time"
)

// file is one archive entry, read from path or given as data.
type file struct {
	name string
	mode int64
	path string
	data []byte
}

func (f file) bytes() ([]byte, error) {
	if f.path == "" {
		return f.data, nil
	}
	return os.ReadFile(f.path)
}

// sorted returns files by name: the entry order is part of the archive's bytes.
func sorted(files []file) []file {
	s := append([]file(nil), files...)
	sort.Slice(s, func(i, j int) bool { return s[i].name < s[j].name })
	return s
}

// writeTarGz writes a gzip'd tar whose bytes depend only on the files and
// mtime: entries sorted, owned by 0:0 with no owner names, one fixed time,
// and a gzip header with no name or time.
func writeTarGz(path string, files []file, mtime time.Time) error {
	return writeFile(path, func(w io.Writer) error {
		gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
		if err != nil {
			return err
		}
		tw := tar.NewWriter(gz)
		for _, f := range sorted(files) {
			b, err := f.bytes()
			if err != nil {
				return err
			}
			hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(b)),
				ModTime: mtime, Format: tar.FormatUSTAR}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(b); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return gz.Close()
	})
}

// writeZip writes a zip with the same rules as writeTarGz (Windows users
// expect a zip).
func writeZip(path string, files []file, mtime time.Time) error {
	return writeFile(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for _, f := range sorted(files) {
			b, err := f.bytes()
			if err != nil {
				return err
			}
			hdr := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime}
			hdr.SetMode(os.FileMode(f.mode))
			fw, err := zw.CreateHeader(hdr)
			if err != nil {
				return err
			}
			if _, err := fw.Write(b); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

func writeFile(path string, write func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
