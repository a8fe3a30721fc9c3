package netguard_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"backlot.dev/backlot/workflows/netguard"
)

func ExampleClassify() {
	for _, a := range []string{"169.254.169.254", "::ffff:10.1.2.3", "100.64.0.7", "140.82.112.3"} {
		fmt.Printf("%s: %q\n", a, netguard.Classify(netip.MustParseAddr(a)))
	}
	// Output:
	// 169.254.169.254: "metadata"
	// ::ffff:10.1.2.3: "private"
	// 100.64.0.7: "CGNAT"
	// 140.82.112.3: ""
}

func ExampleNewClient() {
	// Deliveries may reach the private network 10.0.0.0/8, and nothing else
	// that is not public.
	guard, err := netguard.New(netguard.Config{Allow: netguard.SplitList("10.0.0.0/8")})
	if err != nil {
		panic(err)
	}
	client := netguard.NewClient(guard, 10*time.Second)
	_, err = client.Get("http://127.0.0.1:9/")
	fmt.Println(err)
	_, err = guard.DialContext(context.Background(), "tcp", "169.254.169.254:80")
	fmt.Println(err)
	// Output:
	// Get "http://127.0.0.1:9/": refused to connect to 127.0.0.1:9 (loopback address); allow it by adding 127.0.0.1/32 to --allow-network or BACKLOT_ALLOW_NETWORKS
	// refused to connect to 169.254.169.254:80 (metadata address); allow it by adding 169.254.169.254/32 to --allow-network or BACKLOT_ALLOW_NETWORKS
}
