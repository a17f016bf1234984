package main

import (
	"encoding/json"
	"errors"
)

// secretPassword is the password of an RDS credential secret
// ({"username": ..., "password": ...}, as CDK and the rotation write it).
func secretPassword(secretString string) (string, error) {
	var v struct {
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(secretString), &v); err != nil || v.Password == "" {
		return "", errors.New("the DB secret holds no password field")
	}
	return v.Password, nil
}
