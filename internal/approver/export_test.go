package approver

// SignInAddresses is how many client addresses the sign-in limit keeps.
func (c *Console) SignInAddresses() int { return c.signins.Len() }

// MaxSignInAddresses is the bound on SignInAddresses.
const MaxSignInAddresses = maxSignInAddresses
