"""The app's screens: one small class per screen, grouped by what the user does."""
