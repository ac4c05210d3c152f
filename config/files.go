package config

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// openFunc opens files named in the configuration. Validate and Load use os.Open; tests inject an
// in-memory file system so that documented examples with paths like /etc/es/ca.pem can be validated.
type openFunc func(name string) (fs.File, error)

func osOpen(name string) (fs.File, error) { return os.Open(name) }

// maxSecretSize bounds what is read from a secret file: a password or API key is tiny, and a bigger
// file (or /dev/zero) is a wrong path, not a secret.
const maxSecretSize = 64 << 10

// readSecret returns the content of a password or API key file without its one trailing newline.
// Errors name the file and the problem, never the content.
func readSecret(open openFunc, path string) (string, error) {
	s, err := readSecretLine(open, path)
	if err == nil && s == "" {
		return "", fmt.Errorf("%s is empty; write the secret into it", path)
	}
	return s, err
}

// readKeystorePassword is readSecret for a keystore password file, where an empty file (or one lone
// newline) is an empty password: elasticsearch-certutil writes PKCS#12 keystores without a password
// unless asked for one.
func readKeystorePassword(open openFunc, path string) (string, error) {
	return readSecretLine(open, path)
}

// readSecretLine returns the one line of a secret file without its trailing newline, which may be "".
func readSecretLine(open openFunc, path string) (string, error) {
	f, err := openRegular(open, path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		return "", err // *PathError: "read <path>: ..."
	}
	if len(b) > maxSecretSize {
		return "", fmt.Errorf("%s is larger than %d bytes; it must hold only the secret", path, maxSecretSize)
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\r\n"); ok {
		s = t
	} else {
		s = strings.TrimSuffix(s, "\n")
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%s has more than one line; it must hold only the secret (one trailing newline is fine)", path)
	}
	return s, nil
}

// checkReadable reports whether path can be opened for reading and is not a directory.
func checkReadable(open openFunc, path string) error {
	f, err := openRegular(open, path)
	if err != nil {
		return err
	}
	return f.Close()
}

func openRegular(open openFunc, path string) (fs.File, error) {
	f, err := open(path)
	if err != nil {
		return nil, err // *PathError: "open <path>: no such file or directory"
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		err = fmt.Errorf("%s is a directory; name the file inside it", path)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// readSecretFiles fills Password and APIKey from password_file and api_key_file where only the file is
// set, and Transport.KeystorePassword from transport.keystore_password_file. It reports nothing:
// validate reads the same files and reports every problem with its key path.
func (c *Config) readSecretFiles(open openFunc) {
	for i := range c.Clusters {
		cl := &c.Clusters[i]
		if cl.PasswordFile != "" && cl.Password == "" {
			if s, err := readSecret(open, cl.PasswordFile); err == nil {
				cl.Password = Secret(s)
			}
		}
		if cl.APIKeyFile != "" && cl.APIKey == "" {
			if s, err := readSecret(open, cl.APIKeyFile); err == nil {
				cl.APIKey = Secret(s)
			}
		}
		if t := &cl.Transport; t.KeystorePasswordFile != "" {
			if s, err := readKeystorePassword(open, t.KeystorePasswordFile); err == nil {
				t.KeystorePassword = Secret(s)
			}
		}
	}
}
