# A Rails application template: Backlot runs it in the sandbox.
file "BACKLOT.md", "Made by fetch:rails for #{app_name}\n"
