// Package kmstest gives tests the KMS emulator that
// scripts/setup.d/local-kms.sh starts, and keys created in it.
package kmstest

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Region is the region the keys are created in.
const Region = "eu-west-2"

// Endpoint returns the emulator's URL and puts throwaway credentials in the
// environment, where the AWS SDK's default chain finds them (and no shared
// file or instance role is consulted). Without an emulator the test skips, and
// fails under CI.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv("CUSTOS_TEST_KMS_ENDPOINT")
	if ep == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("CUSTOS_TEST_KMS_ENDPOINT is not set (scripts/setup.d/local-kms.sh starts the emulator)")
		}
		tb.Skip("CUSTOS_TEST_KMS_ENDPOINT is not set: no KMS emulator")
	}
	tb.Setenv("AWS_ACCESS_KEY_ID", "test")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	tb.Setenv("AWS_REGION", Region)
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	tb.Setenv("AWS_CONFIG_FILE", os.DevNull)
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	return ep
}

// CreateKey creates a signing key of spec in the emulator at endpoint and
// returns its id.
func CreateKey(tb testing.TB, endpoint string, spec types.KeySpec) string {
	tb.Helper()
	c := kms.New(kms.Options{Region: Region, BaseEndpoint: aws.String(endpoint),
		Credentials: aws.AnonymousCredentials{}})
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		tb.Fatalf("create key: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}
