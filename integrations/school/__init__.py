"""The school system: enrolment and attendance, drop-out alerts, tuition waivers, boarding
places."""
