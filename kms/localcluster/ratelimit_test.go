package localcluster

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/config"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

// signalPeers stops (SIGSTOP) or resumes (SIGCONT) parties without ending
// them: a stopped peer never answers, so a decryption waits on it.
func signalPeers(t *testing.T, c *Cluster, sig syscall.Signal, parties ...int) {
	t.Helper()
	for _, i := range parties {
		c.mu.Lock()
		cmd := c.procs[i-1]
		c.mu.Unlock()
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
	}
}

// The real rate limiter on a party: a bucket of 2 tokens, decryptions
// held in flight by stopped peers. The third is refused as the real party
// refuses it (ResourceExhausted and only "Failed on requestID ... with
// metric ..." for the client; the limiter's own message in the log), the
// usage gauge shows the full bucket, and once the held decryptions end
// the tokens are back and the party decrypts again.
func TestRateLimiterExhaustedAnswersResourceExhaustedAndServesAgain(t *testing.T) {
	g := NewWithT(t)
	c := start(t, 4, 1)
	cfg, err := config.Load(c.Configs[0], []string{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.RateLimiter()).To(Equal(config.DefaultRateLimiter), "the generated config writes the real defaults")
	cfg.RateLimiterConf.BucketSize = 2
	raw, err := cfg.Marshal()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(c.Configs[0], raw, 0o644)).To(Succeed())
	restart(t, c, 1)
	awaitHealth(t, c, 1, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)

	cl, err := client.Dial(c.Endpoint(1))
	g.Expect(err).NotTo(HaveOccurred())
	defer cl.Close()
	ct, err := c.Key.Encrypt(rand.Reader, 42)
	g.Expect(err).NotTo(HaveOccurred())
	ask := func() error {
		_, err := cl.CoreServiceEndpointClient.PublicDecrypt(context.Background(), &kmsv1.PublicDecryptionRequest{
			RequestId:   &kmsv1.RequestId{RequestId: client.NewRequestID()},
			Ciphertexts: []*kmsv1.TypedCiphertext{{Ciphertext: ct, FheType: 5}},
		})
		return err
	}

	signalPeers(t, c, syscall.SIGSTOP, 2, 3, 4)
	resumed := false
	defer func() {
		if !resumed {
			signalPeers(t, c, syscall.SIGCONT, 2, 3, 4)
		}
	}()
	g.Expect(ask()).To(Succeed(), "first decryption: a token is free")
	g.Expect(ask()).To(Succeed(), "second decryption: the last token")
	err = ask()
	g.Expect(status.Code(err)).To(Equal(codes.ResourceExhausted), "third decryption on an empty bucket: %v", err)
	g.Expect(status.Convert(err).Message()).To(Equal("Failed on requestID 01" + strings.Repeat("00", 31) + " with metric public_decrypt_request"))
	g.Expect(logOf(c, 1)).To(MatchRegexp(`ERROR kms_server: Grpc failure on requestID 01(00){31} with metric public_decrypt_request and error code Some resource has been exhausted\. Error message: not enough tokens in bucket for pub_decrypt, need 1 from 0: no permits available`))
	// Sampled every 5 s, as the real gauge is, and a held decryption
	// gives up on its stopped peers after the network timeout (3 s): keep
	// asking, as a burst does, so the bucket is full whenever it is read.
	stopBurst := make(chan struct{})
	burstDone := make(chan struct{})
	go func() {
		defer close(burstDone)
		for {
			select {
			case <-stopBurst:
				return
			case <-time.After(50 * time.Millisecond):
				_ = ask() // refused while the bucket is full
			}
		}
	}()
	g.Eventually(func() (float64, error) { return gauge(c, 1, "kms_rate_limiter_usage") }, 15*time.Second, 200*time.Millisecond).Should(Equal(2.0))

	close(stopBurst)
	<-burstDone
	signalPeers(t, c, syscall.SIGCONT, 2, 3, 4)
	resumed = true
	g.Eventually(func() (uint64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.Decrypt(ctx, 1, ct)
	}, 30*time.Second, 200*time.Millisecond).Should(Equal(uint64(42)), "the tokens return when the held decryptions end")
	g.Eventually(func() (float64, error) { return gauge(c, 1, "kms_rate_limiter_usage") }, 15*time.Second, 200*time.Millisecond).Should(Equal(0.0))
}
