"""The web portal: a privacy center for people and a console for the privacy team."""
