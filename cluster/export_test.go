package cluster

// DecideLeave exposes decideLeave's verdict to the external tests.
func DecideLeave(models []HealthModel) bool { return decideLeave(models).yes }
