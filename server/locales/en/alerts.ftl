# Alert titles and details in English (the dashboard, the inbox on the phone, the alert webhook).
