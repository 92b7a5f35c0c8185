package storetest

// featureCases returns the cases of the feature parts of the port
// (persistence.Features), one list per part; crash serves the blob cases.
func featureCases(crash Crash) []testCase {
	var all []testCase
	for _, area := range [][]testCase{
		unreadCases(),
		presenceCases(),
		eventCases(),
		reactionCases(),
		titleCases(),
		notificationCases(),
		blobCases(crash),
	} {
		all = append(all, area...)
	}
	return all
}
