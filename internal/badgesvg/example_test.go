package badgesvg_test

import (
	"fmt"
	"strings"

	"backlot.dev/backlot/internal/badgesvg"
)

// A README badge for component:default/checkout at silver, the second of the
// three levels (bronze, silver, gold) of policy test-certification.
func ExampleRender() {
	color := badgesvg.ForLevel(2, 3)
	svg := string(badgesvg.Render("test-certification", "silver", color))
	fmt.Println(color, color.Hex())
	fmt.Println(strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg"`))
	fmt.Println(svg[strings.Index(svg, "<title>") : strings.Index(svg, "</title>")+len("</title>")])
	// Output:
	// green #97ca00
	// true
	// <title>test-certification: silver</title>
}

// The colours of a three-level policy, and of one that does not rate the entity.
func ExampleForLevel() {
	for rank := -1; rank <= 3; rank++ {
		fmt.Println(rank, badgesvg.ForLevel(rank, 3))
	}
	// Output:
	// -1 grey
	// 0 red
	// 1 orange
	// 2 green
	// 3 brightgreen
}
