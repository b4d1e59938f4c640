"""What a Strands user switches on: the approaches' settings, the rolling strategies, the usage tracker and recorder."""
