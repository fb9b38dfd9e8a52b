package console

import "github.com/slakeeper/slakeeper/bot/chat"

// Platform is the terminal as the runtime knows it. One types as a
// configured person, so every person's id is their console user id; it
// runs only as `slakeeper console`, never under serve.
var Platform = chat.Platform{
	Name:         chat.PlatformConsole,
	HowToRun:     "console channels work only in `slakeeper console`",
	PersonIsUser: true,
}

// Capabilities: the terminal prints cards with their buttons as commands,
// marks thread replies and prints text files. It implements chat.Capable.
func (c *Console) Capabilities() chat.Capabilities {
	return chat.Capabilities{Cards: true, Edit: true, Threads: true, Files: true}
}
