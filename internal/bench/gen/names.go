package gen

import (
	"strconv"
)

// Word lists for names. Every name ends in the entity's index within its kind,
// which makes names unique; the words only make them look real. Each list's
// length is fixed: changing a list changes every generated catalog.
var (
	nouns = [...]string{
		"account", "address", "audit", "basket", "billing", "booking", "cart", "catalog",
		"checkout", "coupon", "customer", "delivery", "device", "document", "email", "event",
		"feature", "feed", "fraud", "gateway", "identity", "inventory", "invoice", "ledger",
		"listing", "loyalty", "media", "message", "metrics", "notification", "order", "partner",
		"payment", "payout", "pricing", "profile", "promotion", "quote", "rating", "receipt",
		"refund", "report", "review", "risk", "route", "schedule", "search", "session",
		"settlement", "shipment", "signup", "stock", "subscription", "supplier", "tax", "ticket",
		"token", "tracking", "transfer", "upload", "user", "vendor", "voucher", "wallet",
	}
	adjectives = [...]string{
		"async", "batch", "central", "core", "daily", "edge", "express", "fast",
		"global", "internal", "legacy", "live", "local", "main", "mobile", "new",
		"partner", "primary", "public", "rapid", "realtime", "regional", "remote", "secure",
		"shared", "simple", "smart", "stable", "static", "unified", "web", "zonal",
	}
	firstNames = [...]string{
		"alex", "amara", "bo", "carla", "dev", "elif", "femi", "greta",
		"hiro", "ines", "jonas", "kai", "lena", "malik", "nadia", "omar",
		"priya", "quinn", "rosa", "sami", "tariq", "uma", "vera", "wen",
		"xenia", "yusuf", "zoe", "arjun", "bianca", "chidi", "dmitri", "eva",
	}
	lastNames = [...]string{
		"abe", "bauer", "costa", "diaz", "eriksen", "fischer", "garcia", "haas",
		"ito", "jensen", "kim", "lopez", "moreau", "nowak", "okoro", "park",
		"quist", "rossi", "silva", "tanaka", "urban", "varga", "weber", "xu",
		"yilmaz", "zhang", "ahmed", "brown", "chen", "dubois", "evans", "ferrari",
	}
	componentTypes = [...]string{"service", "service", "service", "website", "library"}
	typeSuffix     = map[string]string{"service": "svc", "website": "web", "library": "lib"}
	resourceTypes  = [...]string{"database", "database", "queue", "bucket", "cache"}
	lifecycles     = [...]string{"production", "experimental", "deprecated"}
	tags           = [...]string{
		"go", "java", "kotlin", "python", "typescript", "rust", "grpc", "kafka",
		"postgres", "react", "graphql", "rest", "internal", "public", "pci", "gdpr",
	}
	languages = [...]string{"go", "java", "kotlin", "python", "typescript", "rust"}
)

// kindSalt separates the hash streams of the kinds.
var kindSalt = [numKinds]uint64{
	0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9, 0x94d049bb133111eb, 0x2545f4914f6cdd1d,
	0xd6e8feb86659fd93, 0xa0761d6478bd642f, 0xe7037ed1a0b428db,
}

// hash returns a well-mixed 64-bit value for entity i of kind k under seed, so
// that an entity's name and type can be computed from its index alone.
func hash(seed int64, k kind, i int) uint64 {
	x := uint64(seed) ^ kindSalt[k] ^ (uint64(i) * 0x9e3779b97f4a7c15)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// pick returns the element of list chosen by bits h >> shift.
func pick[T any](list []T, h uint64, shift uint) T {
	return list[(h>>shift)%uint64(len(list))]
}

// namer computes entity names from their kind and index. The longest name it
// makes is well under Backstage's limit of 63 characters.
type namer struct{ seed int64 }

// name returns the metadata.name of entity i of kind k.
func (n namer) name(k kind, i int) string {
	h := hash(n.seed, k, i)
	idx := strconv.Itoa(i)
	switch k {
	case kindGroup:
		if i == 0 {
			return "bench-org"
		}
		return pick(nouns[:], h, 0) + "-team-" + idx
	case kindUser:
		return pick(firstNames[:], h, 0) + "-" + pick(lastNames[:], h, 8) + "-" + idx
	case kindDomain:
		return pick(nouns[:], h, 0) + "-domain-" + idx
	case kindSystem:
		return pick(adjectives[:], h, 0) + "-" + pick(nouns[:], h, 8) + "-" + idx
	case kindResource:
		return pick(nouns[:], h, 0) + "-" + n.resourceType(i) + "-" + idx
	case kindAPI:
		return pick(nouns[:], h, 0) + "-" + pick(adjectives[:], h, 8) + "-api-" + idx
	case kindComponent:
		return pick(adjectives[:], h, 8) + "-" + pick(nouns[:], h, 0) + "-" + typeSuffix[n.componentType(i)] + "-" + idx
	}
	panic("gen: unknown kind")
}

// componentType returns the spec.type of component i.
func (n namer) componentType(i int) string {
	return pick(componentTypes[:], hash(n.seed, kindComponent, i), 16)
}

// resourceType returns the spec.type of resource i.
func (n namer) resourceType(i int) string {
	return pick(resourceTypes[:], hash(n.seed, kindResource, i), 16)
}
