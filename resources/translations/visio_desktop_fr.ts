<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr" sourcelanguage="en">
<context>
    <name>Messages</name>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="28"/>
        <source>Enter a meeting link or code.</source>
        <translation>Saisissez un lien ou un code de réunion.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="29"/>
        <source>This link has no address.</source>
        <translation>Ce lien ne contient pas d&apos;adresse.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="30"/>
        <source>This link does not name a meeting (expected a code like abc-defg-hij).</source>
        <translation>Ce lien ne désigne aucune réunion (un code comme abc-defg-hij est attendu).</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="32"/>
        <source>Unencrypted links (http://) are only accepted on the local network.</source>
        <translation>Les liens non chiffrés (http://) ne sont acceptés que sur le réseau local.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="33"/>
        <source>This kind of link is not supported.</source>
        <translation>Ce type de lien n&apos;est pas pris en charge.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="34"/>
        <source>This meeting does not exist (check the link).</source>
        <translation>Cette réunion n&apos;existe pas (vérifiez le lien).</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="35"/>
        <source>The server refused to let you join.</source>
        <translation>Le serveur ne vous a pas autorisé à rejoindre la réunion.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="36"/>
        <source>The meeting server cannot be reached: check the network.</source>
        <translation>Le serveur de réunion est injoignable&#xa0;: vérifiez le réseau.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="37"/>
        <source>The meeting server did not answer in time.</source>
        <translation>Le serveur de réunion n&apos;a pas répondu à temps.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="38"/>
        <source>The meeting server&apos;s answer was not understood.</source>
        <translation>La réponse du serveur de réunion n&apos;a pas pu être interprétée.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="22"/>
        <source>Unencrypted addresses (http://) are only accepted for a server on this computer: use https://.</source>
        <translation>Les adresses non chiffrées (http://) ne sont acceptées que pour un serveur sur cet ordinateur&#xa0;: utilisez https://.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="25"/>
        <source>Too many requests: try again in {0} s.</source>
        <translation>Trop de demandes&#xa0;: réessayez dans {0}&#xa0;s.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="39"/>
        <source>This meeting has a waiting room.</source>
        <translation>Cette réunion a une salle d&apos;attente.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="40"/>
        <source>You were not let into the meeting.</source>
        <translation>Vous n&apos;avez pas été admis dans la réunion.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="41"/>
        <source>Nobody let you into the meeting in time.</source>
        <translation>Personne ne vous a admis dans la réunion à temps.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="42"/>
        <source>You left the waiting room.</source>
        <translation>Vous avez quitté la salle d&apos;attente.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="43"/>
        <source>Sign in to do this.</source>
        <translation>Connectez-vous pour faire cela.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="44"/>
        <source>You are not allowed to do this.</source>
        <translation>Vous n&apos;êtes pas autorisé à faire cela.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="45"/>
        <source>Too many requests: wait a moment and try again.</source>
        <translation>Trop de demandes&#xa0;: patientez un instant puis réessayez.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="46"/>
        <source>The meeting server has a problem: try again later.</source>
        <translation>Le serveur de réunion rencontre un problème&#xa0;: réessayez plus tard.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="47"/>
        <source>The meeting server&apos;s certificate is not trusted.</source>
        <translation>Le certificat du serveur de réunion n&apos;est pas reconnu.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="48"/>
        <source>The proxy refused the connection or is not supported.</source>
        <translation>Le proxy a refusé la connexion ou n&apos;est pas pris en charge.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="49"/>
        <source>Your session has expired: sign in again.</source>
        <translation>Votre session a expiré&#xa0;: reconnectez-vous.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="50"/>
        <source>This participant is no longer in the meeting.</source>
        <translation>Cette personne n&apos;est plus dans la réunion.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="51"/>
        <source>This participant has no microphone to mute.</source>
        <translation>Cette personne n&apos;a pas de micro à couper.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="52"/>
        <source>This meeting has no waiting room.</source>
        <translation>Cette réunion n&apos;a pas de salle d&apos;attente.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="53"/>
        <source>You are not connected to the meeting.</source>
        <translation>Vous n&apos;êtes pas connecté à la réunion.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="54"/>
        <source>Only participants signed in with an account can be made administrators.</source>
        <translation>Seules les personnes connectées avec un compte peuvent devenir administratrices.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="56"/>
        <source>The server gave access to another meeting than the one asked for.</source>
        <translation>Le serveur a donné accès à une autre réunion que celle demandée.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="59"/>
        <source>Only a meeting administrator can do this.</source>
        <translation>Seul un administrateur de la réunion peut faire cela.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="64"/>
        <source>Could not join the meeting: {0}</source>
        <translation>Impossible de rejoindre la réunion&#xa0;: {0}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="66"/>
        <source>Network error: {0}</source>
        <translation>Erreur réseau&#xa0;: {0}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="67"/>
        <source>Something went wrong: {0}</source>
        <translation>Une erreur s&apos;est produite&#xa0;: {0}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="74"/>
        <source>{0} joined the meeting</source>
        <translation>{0} a rejoint la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="75"/>
        <source>{0} left the meeting</source>
        <translation>{0} a quitté la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="76"/>
        <source>{0} raised their hand</source>
        <translation>{0} a levé la main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="77"/>
        <source>{0} muted your microphone</source>
        <translation>{0} a coupé votre micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="78"/>
        <source>An administrator changed what you may share</source>
        <translation>Un administrateur a modifié ce que vous pouvez partager</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="79"/>
        <source>You were disconnected from the meeting</source>
        <translation>Vous avez été déconnecté de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="80"/>
        <source>Connection lost, reconnecting…</source>
        <translation>Connexion perdue, reconnexion…</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="81"/>
        <source>Transcription started</source>
        <translation>Transcription démarrée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="82"/>
        <source>Transcription stopped</source>
        <translation>Transcription arrêtée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="83"/>
        <source>Recording started</source>
        <translation>Enregistrement démarré</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="84"/>
        <source>Recording stopped</source>
        <translation>Enregistrement arrêté</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="85"/>
        <source>You are speaking while muted</source>
        <translation>Vous parlez alors que votre micro est coupé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="86"/>
        <source>Microphone {0} disconnected: using the system&apos;s default</source>
        <translation>Micro {0} débranché&#xa0;: utilisation du micro par défaut du système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/messages.py" line="87"/>
        <source>Speakers {0} disconnected: using the system&apos;s default</source>
        <translation>Haut-parleurs {0} débranchés&#xa0;: utilisation de la sortie par défaut du système</translation>
    </message>
</context>
<context>
    <name>CallActions</name>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="17"/>
        <source>Microphone</source>
        <translation>Microphone</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="18"/>
        <source>Turn the microphone on or off</source>
        <translation>Activer ou désactiver le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="19"/>
        <source>Camera</source>
        <translation>Caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="20"/>
        <source>Turn the camera on or off</source>
        <translation>Activer ou désactiver la caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="21"/>
        <source>Share screen</source>
        <translation>Partager l&apos;écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="22"/>
        <source>Share a screen or a window</source>
        <translation>Partager un écran ou une fenêtre</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="23"/>
        <source>Raise hand</source>
        <translation>Lever la main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="24"/>
        <source>Raise or lower your hand</source>
        <translation>Lever ou baisser la main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="25"/>
        <source>Reactions</source>
        <translation>Réactions</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="26"/>
        <source>Send a reaction</source>
        <translation>Envoyer une réaction</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="27"/>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="28"/>
        <source>Show or hide the chat</source>
        <translation>Afficher ou masquer le chat</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="29"/>
        <source>Participants</source>
        <translation>Participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="30"/>
        <source>Show or hide the participants</source>
        <translation>Afficher ou masquer les participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="31"/>
        <source>Captions</source>
        <translation>Sous-titres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="32"/>
        <source>Show or hide the live captions</source>
        <translation>Afficher ou masquer les sous-titres en direct</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="33"/>
        <source>Transcript</source>
        <translation>Transcription</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="34"/>
        <source>Show or hide the transcript of the captions</source>
        <translation>Afficher ou masquer la transcription des sous-titres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="36"/>
        <source>Full screen</source>
        <translation>Plein écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="37"/>
        <source>Enter or leave full screen</source>
        <translation>Passer en plein écran ou le quitter</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="38"/>
        <source>Speaker view</source>
        <translation>Vue intervenant</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="39"/>
        <source>Switch between the grid and the speaker view</source>
        <translation>Basculer entre la mosaïque et la vue intervenant</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="41"/>
        <source>Focus the toolbar</source>
        <translation>Aller à la barre d&apos;outils</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="42"/>
        <source>Move the keyboard focus to the toolbar</source>
        <translation>Placer le focus clavier sur la barre d&apos;outils</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="43"/>
        <source>Keyboard shortcuts</source>
        <translation>Raccourcis clavier</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="44"/>
        <source>List the keyboard shortcuts</source>
        <translation>Afficher la liste des raccourcis clavier</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="45"/>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="46"/>
        <source>Open the settings</source>
        <translation>Ouvrir les paramètres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="47"/>
        <source>Statistics</source>
        <translation>Statistiques</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="48"/>
        <source>Show the connection and media statistics</source>
        <translation>Afficher les statistiques de connexion et des médias</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="49"/>
        <source>Meeting link</source>
        <translation>Lien de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="50"/>
        <source>Show the link to invite people</source>
        <translation>Afficher le lien pour inviter des participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="51"/>
        <source>Leave</source>
        <translation>Quitter</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="52"/>
        <source>Leave the meeting</source>
        <translation>Quitter la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/actions.py" line="81"/>
        <source>Push to talk (hold)</source>
        <translation>Appuyer pour parler (maintenir)</translation>
    </message>
</context>
<context>
    <name>CallPage</name>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="126"/>
        <source>Reactions</source>
        <translation>Réactions</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="211"/>
        <source>{0} is waiting to join</source>
        <translation>{0} attend d&apos;entrer</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="212"/>
        <source>Open participants</source>
        <translation>Voir les participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="225"/>
        <source>An administrator does not allow this in this meeting</source>
        <translation>Un administrateur ne l&apos;autorise pas dans cette réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="239"/>
        <source>This meeting is being recorded</source>
        <translation>Cette réunion est en cours d&apos;enregistrement</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="240"/>
        <source>This meeting is being transcribed</source>
        <translation>Cette réunion est en cours de transcription</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="250"/>
        <source>Mute</source>
        <translation>Couper le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="250"/>
        <source>Unmute</source>
        <translation>Activer le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="252"/>
        <source>Stop camera</source>
        <translation>Désactiver la caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="252"/>
        <source>Start camera</source>
        <translation>Activer la caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="255"/>
        <source>Stop sharing</source>
        <translation>Arrêter le partage</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="255"/>
        <source>Share screen</source>
        <translation>Partager l&apos;écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="256"/>
        <source>Lower hand</source>
        <translation>Baisser la main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="256"/>
        <source>Raise hand</source>
        <translation>Lever la main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="345"/>
        <source>{0}: {1}</source>
        <translation>{0}&#xa0;: {1}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="346"/>
        <source>Open chat</source>
        <translation>Ouvrir le chat</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="370"/>
        <source>Live captions are starting…</source>
        <translation>Les sous-titres en direct démarrent…</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="383"/>
        <location filename="../../visio_desktop/ui/call_page.py" line="387"/>
        <source>Keyboard shortcuts</source>
        <translation>Raccourcis clavier</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="386"/>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="386"/>
        <source>Shortcut</source>
        <translation>Raccourci</translation>
    </message>
</context>
<context>
    <name>CallTray</name>
    <message>
        <location filename="../../visio_desktop/ui/tray.py" line="40"/>
        <location filename="../../visio_desktop/ui/tray.py" line="62"/>
        <source>Visio</source>
        <translation>Visio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/tray.py" line="41"/>
        <source>&amp;Show window</source>
        <translation>&amp;Afficher la fenêtre</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/tray.py" line="43"/>
        <source>&amp;Mute microphone</source>
        <translation>&amp;Couper le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/tray.py" line="46"/>
        <source>&amp;Leave call</source>
        <translation>Quitter l&apos;a&amp;ppel</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/tray.py" line="48"/>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/tray.py" line="101"/>
        <source>The microphone is on</source>
        <translation>Le micro est activé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/tray.py" line="101"/>
        <source>The microphone is muted</source>
        <translation>Le micro est coupé</translation>
    </message>
</context>
<context>
    <name>CaptionsOverlay</name>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="214"/>
        <source>Captions</source>
        <translation>Sous-titres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="279"/>
        <source>{speaker}: {text}</source>
        <translation>{speaker}&#xa0;: {text}</translation>
    </message>
</context>
<context>
    <name>CaptionsPanel</name>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="302"/>
        <source>Transcript</source>
        <translation>Transcription</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="305"/>
        <source>Text &amp;size</source>
        <translation>&amp;Taille du texte</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="311"/>
        <source>Caption text size</source>
        <translation>Taille du texte des sous-titres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="315"/>
        <source>&amp;Export…</source>
        <translation>&amp;Exporter…</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="316"/>
        <source>Export the transcript to a text file</source>
        <translation>Exporter la transcription dans un fichier texte</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="334"/>
        <source>Captions transcript</source>
        <translation>Transcription des sous-titres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="335"/>
        <source>What was said, oldest first</source>
        <translation>Ce qui a été dit, du plus ancien au plus récent</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="336"/>
        <source>Copy</source>
        <translation>Copier</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="343"/>
        <source>Captions appear here when someone speaks.</source>
        <translation>Les sous-titres s&apos;affichent ici quand quelqu&apos;un parle.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="376"/>
        <location filename="../../visio_desktop/ui/captions_view.py" line="383"/>
        <source>Export transcript</source>
        <translation>Exporter la transcription</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="377"/>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>Fichiers texte (*.txt);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/captions_view.py" line="384"/>
        <source>The transcript could not be saved:
{error}</source>
        <translation>La transcription n&apos;a pas pu être enregistrée&#xa0;:
{error}</translation>
    </message>
</context>
<context>
    <name>ChatInput</name>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="115"/>
        <source>Write a message</source>
        <translation>Écrire un message</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="116"/>
        <source>Message</source>
        <translation>Message</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="118"/>
        <source>Enter sends the message, Shift+Enter starts a new line</source>
        <translation>Entrée envoie le message, Maj+Entrée passe à la ligne</translation>
    </message>
</context>
<context>
    <name>ChatPanel</name>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="196"/>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="206"/>
        <source>Messages</source>
        <translation>Messages</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="208"/>
        <source>Messages are shown here. Links open in your web browser.</source>
        <translation>Les messages s&apos;affichent ici. Les liens s&apos;ouvrent dans votre navigateur web.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="212"/>
        <source>No messages yet. Messages are not kept after the meeting.</source>
        <translation>Aucun message pour l&apos;instant. Les messages ne sont pas conservés après la réunion.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="217"/>
        <source>New messages below</source>
        <translation>Nouveaux messages plus bas</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="218"/>
        <source>Jump to the newest messages</source>
        <translation>Aller aux messages les plus récents</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="227"/>
        <source>Characters used</source>
        <translation>Caractères utilisés</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="230"/>
        <source>Send</source>
        <translation>Envoyer</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="231"/>
        <source>Send message</source>
        <translation>Envoyer le message</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="312"/>
        <source>{name}: {text}</source>
        <translation>{name}&#xa0;: {text}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="323"/>
        <source>You</source>
        <translation>Vous</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="371"/>
        <source>{count} / {limit}</source>
        <translation>{count} / {limit}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/chat_panel.py" line="373"/>
        <source>{left} characters left</source>
        <translation>{left} caractères restants</translation>
    </message>
</context>
<context>
    <name>ControlBar</name>
    <message>
        <location filename="../../visio_desktop/ui/control_bar.py" line="16"/>
        <source>Call controls</source>
        <translation>Commandes de l&apos;appel</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/control_bar.py" line="45"/>
        <source>More</source>
        <translation>Plus</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/control_bar.py" line="47"/>
        <location filename="../../visio_desktop/ui/control_bar.py" line="54"/>
        <source>More options</source>
        <translation>Plus d&apos;options</translation>
    </message>
</context>
<context>
    <name>HomePage</name>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="75"/>
        <source>Visio</source>
        <translation>Visio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="81"/>
        <source>Secure video meetings for public servants</source>
        <translation>La visioconférence sécurisée des agents publics</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="85"/>
        <source>Meeting link or code (abc-defg-hij)</source>
        <translation>Lien ou code de la réunion (abc-defg-hij)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="86"/>
        <source>Meeting link or code</source>
        <translation>Lien ou code de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="90"/>
        <source>Join</source>
        <translation>Rejoindre</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="91"/>
        <source>Join the meeting</source>
        <translation>Rejoindre la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="106"/>
        <location filename="../../visio_desktop/ui/home.py" line="107"/>
        <source>Start a meeting on this computer</source>
        <translation>Démarrer une réunion sur cet ordinateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="109"/>
        <source>No account or internet needed: people on your network join with the link</source>
        <translation>Sans compte ni internet&#xa0;: les personnes de votre réseau rejoignent la réunion avec le lien</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="112"/>
        <source>No account or internet connection needed. People on your network join with the link shown in the meeting.</source>
        <translation>Aucun compte ni connexion internet nécessaire. Les personnes de votre réseau rejoignent la réunion avec le lien indiqué pendant celle-ci.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="116"/>
        <location filename="../../visio_desktop/ui/home.py" line="213"/>
        <source>Not signed in — you join meetings as a guest.</source>
        <translation>Non connecté — vous rejoignez les réunions en tant qu&apos;invité.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="119"/>
        <source>Sign in</source>
        <translation>Se connecter</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="120"/>
        <source>Sign in with ProConnect</source>
        <translation>Se connecter avec ProConnect</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="122"/>
        <location filename="../../visio_desktop/ui/home.py" line="123"/>
        <source>Sign out</source>
        <translation>Se déconnecter</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="126"/>
        <location filename="../../visio_desktop/ui/home.py" line="127"/>
        <source>Create a Visio meeting</source>
        <translation>Créer une réunion Visio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="131"/>
        <location filename="../../visio_desktop/ui/home.py" line="135"/>
        <source>Your meetings</source>
        <translation>Vos réunions</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="142"/>
        <location filename="../../visio_desktop/ui/home.py" line="145"/>
        <source>Recent meetings</source>
        <translation>Réunions récentes</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="149"/>
        <source>Meetings you join appear here.</source>
        <translation>Les réunions que vous rejoignez apparaissent ici.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="154"/>
        <location filename="../../visio_desktop/ui/home.py" line="156"/>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/home.py" line="211"/>
        <source>Signed in as {0}</source>
        <translation>Connecté en tant que {0}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="55"/>
        <location filename="../../visio_desktop/ui/main_window.py" line="95"/>
        <location filename="../../visio_desktop/ui/main_window.py" line="623"/>
        <source>Visio</source>
        <translation>Visio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="255"/>
        <location filename="../../visio_desktop/ui/main_window.py" line="498"/>
        <source>Meeting on this computer</source>
        <translation>Réunion sur cet ordinateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="256"/>
        <source>Meeting {0}</source>
        <translation>Réunion {0}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="286"/>
        <source>System default</source>
        <translation>Par défaut du système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="287"/>
        <source>Test pattern (synthetic)</source>
        <translation>Mire de test (synthétique)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="288"/>
        <source>Test tone (synthetic)</source>
        <translation>Son de test (synthétique)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="288"/>
        <source>None</source>
        <translation>Aucun</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="445"/>
        <source>Signing in needs the Qt WebEngine component.</source>
        <translation>La connexion nécessite le composant Qt WebEngine.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="511"/>
        <source>End meeting</source>
        <translation>Terminer la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="512"/>
        <source>End the meeting for everyone</source>
        <translation>Terminer la réunion pour tous</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="520"/>
        <source>Visio — {0}</source>
        <translation>Visio — {0}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/main_window.py" line="601"/>
        <source>The meeting ended: {0}</source>
        <translation>La réunion est terminée&#xa0;: {0}</translation>
    </message>
</context>
<context>
    <name>MeetingInfoDialog</name>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="26"/>
        <source>Invite people</source>
        <translation>Inviter des participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="29"/>
        <source>People on your network join by opening this link in Visio Desktop.</source>
        <translation>Les personnes de votre réseau rejoignent la réunion en ouvrant ce lien dans Visio Desktop.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="30"/>
        <source>Share this link to invite people to the meeting.</source>
        <translation>Partagez ce lien pour inviter des personnes à la réunion.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="35"/>
        <source>Meeting link</source>
        <translation>Lien de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="36"/>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="57"/>
        <source>Copy link</source>
        <translation>Copier le lien</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="37"/>
        <source>Copy the meeting link</source>
        <translation>Copier le lien de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="42"/>
        <source>QR code of the meeting link</source>
        <translation>QR code du lien de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="43"/>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/meeting_info.py" line="56"/>
        <source>Copied</source>
        <translation>Copié</translation>
    </message>
</context>
<context>
    <name>MiniWindow</name>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="105"/>
        <source>Visio call</source>
        <translation>Appel Visio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="106"/>
        <source>Call in a small window</source>
        <translation>Appel dans une petite fenêtre</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="116"/>
        <source>Video of the person speaking</source>
        <translation>Vidéo de la personne qui parle</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="127"/>
        <source>&amp;Leave</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="128"/>
        <source>Leave the call</source>
        <translation>Quitter l&apos;appel</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="130"/>
        <source>&amp;Back to the call</source>
        <translation>&amp;Retour à l&apos;appel</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="131"/>
        <source>Back to the call</source>
        <translation>Retour à l&apos;appel</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="176"/>
        <source>Nobody else is here</source>
        <translation>Personne d&apos;autre n&apos;est présent</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="180"/>
        <source>{name} (you)</source>
        <translation>{name} (vous)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="182"/>
        <source>{name}, microphone off</source>
        <translation>{name}, micro désactivé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="183"/>
        <source>{name}, muted</source>
        <translation>{name}, micro coupé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="197"/>
        <source>&amp;Mute</source>
        <translation>&amp;Couper le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="198"/>
        <source>Mute the microphone</source>
        <translation>Couper le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="200"/>
        <source>&amp;Unmute</source>
        <translation>&amp;Activer le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/mini_window.py" line="201"/>
        <source>Unmute the microphone</source>
        <translation>Activer le micro</translation>
    </message>
</context>
<context>
    <name>NameEdit</name>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="126"/>
        <source>Your name</source>
        <extracomment>the checkboxes of &quot;Meeting settings&quot; → the sources each stands for (LiveKit&apos;s names)</extracomment>
        <translation>Votre nom</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="127"/>
        <source>Enter saves the new name, Escape cancels</source>
        <translation>Entrée enregistre le nouveau nom, Échap annule</translation>
    </message>
</context>
<context>
    <name>ParticipantRow</name>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="182"/>
        <source>(you)</source>
        <translation>(vous)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="183"/>
        <source>Host</source>
        <translation>Organisateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="185"/>
        <source>Hand raised</source>
        <translation>Main levée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="188"/>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="203"/>
        <source>Lower hand</source>
        <translation>Baisser la main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="190"/>
        <source>Rename</source>
        <translation>Renommer</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="192"/>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="262"/>
        <source>Pin</source>
        <translation>Épingler</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="196"/>
        <source>More actions</source>
        <translation>Plus d&apos;actions</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="201"/>
        <source>Mute</source>
        <translation>Couper le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="206"/>
        <source>Remove from the meeting</source>
        <translation>Retirer de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="208"/>
        <source>Make administrator</source>
        <translation>Nommer administrateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="211"/>
        <source>Remove administrator rights</source>
        <translation>Retirer les droits d&apos;administrateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="242"/>
        <source>{number}.</source>
        <translation>{number}.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="251"/>
        <source>Microphone off</source>
        <translation>Micro désactivé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="251"/>
        <source>Microphone on</source>
        <translation>Micro activé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="258"/>
        <source>Lower your hand</source>
        <translation>Baisser votre main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="259"/>
        <source>Lower {name}&apos;s hand</source>
        <translation>Baisser la main de {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="261"/>
        <source>Change your name</source>
        <translation>Modifier votre nom</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="262"/>
        <source>Unpin</source>
        <translation>Désépingler</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="264"/>
        <source>Unpin {name}</source>
        <translation>Désépingler {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="264"/>
        <source>Pin {name}</source>
        <translation>Épingler {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="266"/>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="267"/>
        <source>More actions for {name}</source>
        <translation>Plus d&apos;actions pour {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="274"/>
        <source>Make {name} an administrator of the meeting</source>
        <translation>Nommer {name} administrateur de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="277"/>
        <source>Remove {name}&apos;s administrator rights</source>
        <translation>Retirer à {name} les droits d&apos;administrateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="284"/>
        <source>{name} (you)</source>
        <translation>{name} (vous)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="286"/>
        <source>Hand {number}</source>
        <translation>Main levée n°&#xa0;{number}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="288"/>
        <source>host</source>
        <translation>organisateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="289"/>
        <source>microphone off</source>
        <translation>micro désactivé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="290"/>
        <source>microphone on</source>
        <translation>micro activé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="292"/>
        <source>hand raised</source>
        <translation>main levée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="294"/>
        <source>pinned</source>
        <translation>épinglé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="295"/>
        <source>, </source>
        <translation>, </translation>
    </message>
</context>
<context>
    <name>ParticipantsPanel</name>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="514"/>
        <source>Participants</source>
        <translation>Participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="525"/>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="526"/>
        <source>Search participants</source>
        <translation>Rechercher des participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="537"/>
        <source>Admit all</source>
        <translation>Tout admettre</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="539"/>
        <source>Lower all hands</source>
        <translation>Baisser toutes les mains</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="541"/>
        <source>Mute everyone</source>
        <translation>Couper le micro de tous</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="552"/>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="553"/>
        <source>Meeting settings</source>
        <translation>Paramètres de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="554"/>
        <source>Participants may:</source>
        <translation>Les participants peuvent&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="555"/>
        <source>Turn on their microphone</source>
        <translation>Activer leur micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="556"/>
        <source>Participants may turn on their microphone</source>
        <translation>Les participants peuvent activer leur micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="557"/>
        <source>Turn on their camera</source>
        <translation>Activer leur caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="558"/>
        <source>Participants may turn on their camera</source>
        <translation>Les participants peuvent activer leur caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="559"/>
        <source>Share their screen</source>
        <translation>Partager leur écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="560"/>
        <source>Participants may share their screen</source>
        <translation>Les participants peuvent partager leur écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="760"/>
        <source>Raised hands</source>
        <translation>Mains levées</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="762"/>
        <source>In the meeting ({count})</source>
        <translation>Dans la réunion ({count})</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="784"/>
        <source>Waiting to join ({count})</source>
        <translation>Salle d&apos;attente ({count})</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="786"/>
        <source>Admit everyone waiting</source>
        <translation>Admettre toutes les personnes en attente</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="790"/>
        <source>Mute everyone else</source>
        <translation>Couper le micro de tous les autres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="842"/>
        <source>No participant matches “{query}”.</source>
        <translation>Aucun participant ne correspond à «&#xa0;{query}&#xa0;».</translation>
    </message>
</context>
<context>
    <name>PreJoinPage</name>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="45"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="218"/>
        <source>Ready to join?</source>
        <translation>Rejoindre la réunion&#xa0;?</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="56"/>
        <source>Camera preview</source>
        <translation>Aperçu de la caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="58"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="79"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="103"/>
        <source>Camera</source>
        <translation>Caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="60"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="77"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="97"/>
        <source>Microphone</source>
        <translation>Microphone</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="72"/>
        <source>Microphone level</source>
        <translation>Niveau du micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="78"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="102"/>
        <source>Speakers</source>
        <translation>Haut-parleurs</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="80"/>
        <source>Test speakers</source>
        <translation>Tester les haut-parleurs</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="81"/>
        <source>Play a test sound</source>
        <translation>Émettre un son de test</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="90"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="91"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="96"/>
        <source>Your name</source>
        <translation>Votre nom</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="105"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="108"/>
        <source>Join now</source>
        <translation>Rejoindre maintenant</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="110"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="219"/>
        <source>Back</source>
        <translation>Retour</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="111"/>
        <source>Back to the home page</source>
        <translation>Retour à l&apos;accueil</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="115"/>
        <source>Joining</source>
        <translation>Connexion à la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="116"/>
        <location filename="../../visio_desktop/ui/prejoin.py" line="217"/>
        <source>Joining…</source>
        <translation>Connexion à la réunion…</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="211"/>
        <source>Waiting to be let in…</source>
        <translation>En attente d&apos;admission…</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="212"/>
        <source>Waiting to be let in</source>
        <translation>En attente d&apos;admission</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="213"/>
        <source>Waiting room</source>
        <translation>Salle d&apos;attente</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="214"/>
        <source>Someone in the meeting will let you in soon.</source>
        <translation>Une personne de la réunion va bientôt vous admettre.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="215"/>
        <source>Leave the waiting room</source>
        <translation>Quitter la salle d&apos;attente</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="239"/>
        <source>You</source>
        <translation>Vous</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="246"/>
        <source>Camera on</source>
        <translation>Caméra activée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="246"/>
        <source>Camera off</source>
        <translation>Caméra désactivée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="249"/>
        <source>Microphone on</source>
        <translation>Micro activé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/prejoin.py" line="250"/>
        <source>Microphone off</source>
        <translation>Micro désactivé</translation>
    </message>
</context>
<context>
    <name>ReactionOverlay</name>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="202"/>
        <source>Reactions</source>
        <translation>Réactions</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="234"/>
        <location filename="../../visio_desktop/ui/reactions.py" line="251"/>
        <source>You</source>
        <translation>Vous</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="250"/>
        <source>{name} reacted with {reaction}</source>
        <translation>{name}&#xa0;: {reaction}</translation>
    </message>
</context>
<context>
    <name>ReactionPicker</name>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="118"/>
        <source>Reactions</source>
        <translation>Réactions</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="119"/>
        <source>Send a reaction to everyone in the meeting</source>
        <translation>Envoyer une réaction à tous les participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="129"/>
        <source>{name} ({key})</source>
        <translation>{name} ({key})</translation>
    </message>
</context>
<context>
    <name>Reactions</name>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="55"/>
        <source>Thumbs up</source>
        <extracomment>The web app&apos;s order (``features/reactions/types.ts``), with each slug&apos;s glyph.</extracomment>
        <translation>Pouce levé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="56"/>
        <source>Thumbs down</source>
        <translation>Pouce baissé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="57"/>
        <source>Clapping hands</source>
        <translation>Applaudissements</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="58"/>
        <source>Red heart</source>
        <translation>Cœur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="59"/>
        <source>Face with tears of joy</source>
        <translation>Visage qui rit</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="60"/>
        <source>Face with open mouth</source>
        <translation>Visage étonné</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="61"/>
        <source>Party popper</source>
        <translation>Confettis</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/reactions.py" line="62"/>
        <source>Folded hands</source>
        <translation>Mains jointes</translation>
    </message>
</context>
<context>
    <name>RemoveConfirmation</name>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="447"/>
        <source>Confirm removal</source>
        <translation>Confirmer le retrait</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="451"/>
        <source>Remove</source>
        <translation>Retirer</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="453"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="467"/>
        <source>Remove {name} from the meeting?</source>
        <translation>Retirer {name} de la réunion&#xa0;?</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="470"/>
        <source>Remove {name}</source>
        <translation>Retirer {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="471"/>
        <source>Cancel removing {name}</source>
        <translation>Ne pas retirer {name}</translation>
    </message>
</context>
<context>
    <name>ScreenPicker</name>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="144"/>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="145"/>
        <source>Share your screen</source>
        <translation>Partager votre écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="158"/>
        <source>Choose what the other participants will see.</source>
        <translation>Choisissez ce que les autres participants verront.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="164"/>
        <source>What to share</source>
        <translation>Contenu à partager</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="165"/>
        <source>Screens</source>
        <translation>Écrans</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="166"/>
        <source>Windows</source>
        <translation>Fenêtres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="167"/>
        <source>&amp;Screens</source>
        <translation>É&amp;crans</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="168"/>
        <source>&amp;Windows</source>
        <translation>&amp;Fenêtres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="182"/>
        <source>Share computer &amp;sound</source>
        <translation>Partager le &amp;son de l&apos;ordinateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="183"/>
        <source>Share computer sound</source>
        <translation>Partager le son de l&apos;ordinateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="187"/>
        <source>Sharing the computer&apos;s sound is not available on this system.</source>
        <translation>Le partage du son de l&apos;ordinateur n&apos;est pas disponible sur ce système.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="193"/>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="195"/>
        <source>Share</source>
        <translation>Partager</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="198"/>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="199"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="260"/>
        <source>Your screens cannot be listed: {reason}</source>
        <translation>Impossible d&apos;obtenir la liste de vos écrans&#xa0;: {reason}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="268"/>
        <source>Windows cannot be listed: {reason}</source>
        <translation>Impossible d&apos;obtenir la liste des fenêtres&#xa0;: {reason}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="271"/>
        <source>No screen was found.</source>
        <translation>Aucun écran n&apos;a été trouvé.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="279"/>
        <source>No window can be shared on this system; share a whole screen instead.</source>
        <translation>Aucune fenêtre ne peut être partagée sur ce système&#xa0;; partagez plutôt un écran entier.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="289"/>
        <source>Choose in the system dialog</source>
        <translation>Choisir dans la fenêtre du système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="292"/>
        <source>Choose the screen or window in the system dialog</source>
        <translation>Choisir l&apos;écran ou la fenêtre dans la fenêtre du système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="297"/>
        <source>The system dialog also lets you choose a single window.</source>
        <translation>La fenêtre du système permet aussi de choisir une seule fenêtre.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="300"/>
        <source>{width} × {height}</source>
        <translation>{width} × {height}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="302"/>
        <source>{name} (primary, {size})</source>
        <translation>{name} (principal, {size})</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="303"/>
        <source>{name} ({size})</source>
        <translation>{name} ({size})</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/screen_picker.py" line="354"/>
        <source>Screen sharing is not available.</source>
        <translation>Le partage d&apos;écran n&apos;est pas disponible.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="112"/>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="114"/>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="116"/>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="117"/>
        <source>Settings sections</source>
        <translation>Sections des paramètres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="118"/>
        <source>&amp;Audio</source>
        <translation>&amp;Audio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="119"/>
        <source>&amp;Video</source>
        <translation>&amp;Vidéo</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="120"/>
        <source>&amp;General</source>
        <translation>&amp;Général</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="121"/>
        <source>&amp;Notifications</source>
        <translation>&amp;Notifications</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="122"/>
        <source>&amp;Shortcuts</source>
        <translation>&amp;Raccourcis</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="123"/>
        <source>A&amp;ccessibility</source>
        <translation>A&amp;ccessibilité</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="127"/>
        <source>Close settings</source>
        <translation>Fermer les paramètres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="165"/>
        <source>Set by your organisation: {reason}</source>
        <translation>Défini par votre organisation&#xa0;: {reason}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="328"/>
        <source>{name} (not connected)</source>
        <translation>{name} (non connecté)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="380"/>
        <source> %</source>
        <translation>&#xa0;%</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="408"/>
        <source>&amp;Microphone:</source>
        <translation>&amp;Microphone&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="409"/>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="421"/>
        <source>System default</source>
        <translation>Par défaut du système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="409"/>
        <source>Microphone</source>
        <translation>Microphone</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="414"/>
        <source>Microphone level</source>
        <translation>Niveau du micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="415"/>
        <source>Level:</source>
        <translation>Niveau&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="416"/>
        <source>Play &amp;test sound</source>
        <translation>Émettre un son de &amp;test</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="417"/>
        <source>Play test sound</source>
        <translation>Émettre un son de test</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="421"/>
        <source>Speakers</source>
        <translation>Haut-parleurs</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="425"/>
        <source>Spea&amp;kers:</source>
        <translation>&amp;Haut-parleurs&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="428"/>
        <source>Sound processing</source>
        <translation>Traitement du son</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="430"/>
        <source>&amp;Echo cancellation</source>
        <translation>Annu&amp;lation de l&apos;écho</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="431"/>
        <source>Noise supp&amp;ression</source>
        <translation>Réduction du &amp;bruit</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="433"/>
        <source>Adjust microphone vo&amp;lume automatically</source>
        <translation>Régler automatiquement le vol&amp;ume du micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="436"/>
        <source>&amp;Push to talk: the microphone is on only while the push-to-talk key is held</source>
        <translation>Appuyer pour &amp;parler&#xa0;: le micro n&apos;est actif que tant que la touche dédiée est maintenue enfoncée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="443"/>
        <source>Ca&amp;mera:</source>
        <translation>Ca&amp;méra&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="444"/>
        <source>Default camera</source>
        <translation>Caméra par défaut</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="444"/>
        <source>Camera</source>
        <translation>Caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="445"/>
        <source>&amp;Resolution:</source>
        <translation>Ré&amp;solution&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="446"/>
        <source>High (720p)</source>
        <translation>Haute (720p)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="447"/>
        <source>Standard (360p)</source>
        <translation>Standard (360p)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="448"/>
        <source>Low (180p)</source>
        <translation>Basse (180p)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="449"/>
        <source>Camera resolution</source>
        <translation>Résolution de la caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="450"/>
        <source>M&amp;irror my video preview</source>
        <translation>Afficher mon aperçu vidéo en m&amp;iroir</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="451"/>
        <source>&amp;Blur my background</source>
        <translation>&amp;Flouter mon arrière-plan</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="453"/>
        <source>Use &amp;hardware video encoding when available</source>
        <translation>Utiliser l&apos;&amp;encodage vidéo matériel si disponible</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="460"/>
        <source>&amp;Language:</source>
        <translation>&amp;Langue&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="461"/>
        <source>System language</source>
        <translation>Langue du système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="462"/>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="463"/>
        <source>&amp;Theme:</source>
        <translation>&amp;Thème&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="464"/>
        <source>System</source>
        <translation>Système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="464"/>
        <source>Light</source>
        <translation>Clair</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="465"/>
        <source>Dark</source>
        <translation>Sombre</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="466"/>
        <source>Theme</source>
        <translation>Thème</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="467"/>
        <source>Server add&amp;ress:</source>
        <translation>Adresse du serve&amp;ur&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="468"/>
        <source>Server address</source>
        <translation>Adresse du serveur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="470"/>
        <source>Enter an address starting with https://</source>
        <translation>Saisissez une adresse commençant par https://</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="471"/>
        <source>&amp;Display name:</source>
        <translation>N&amp;om affiché&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="472"/>
        <source>Display name</source>
        <translation>Nom affiché</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="473"/>
        <source>The name others see in meetings</source>
        <translation>Le nom que les autres voient en réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="474"/>
        <source>This name cannot be used.</source>
        <translation>Ce nom ne peut pas être utilisé.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="476"/>
        <source>Show a small &amp;floating window during a call when Visio Desktop is in the background</source>
        <translation>Afficher une petite fenêtre &amp;flottante pendant un appel quand Visio Desktop est en arrière-plan</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="479"/>
        <source>&amp;Keep running in the system tray when the window is closed</source>
        <translation>Rester act&amp;if dans la zone de notification quand la fenêtre est fermée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="484"/>
        <source>No system tray was found on this desktop: closing the window quits Visio Desktop.</source>
        <translation>Aucune zone de notification n&apos;a été trouvée sur ce bureau&#xa0;: fermer la fenêtre quitte Visio Desktop.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="486"/>
        <source>Network</source>
        <translation>Réseau</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="489"/>
        <source>Let people on my local net&amp;work join meetings started on this computer</source>
        <translation>Permettre aux personnes de mon ré&amp;seau local de rejoindre les réunions démarrées sur cet ordinateur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="491"/>
        <source>&amp;Proxy:</source>
        <translation>&amp;Proxy&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="498"/>
        <source>Proxy</source>
        <translation>Proxy</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="499"/>
        <source>Use the system settings</source>
        <translation>Utiliser les paramètres du système</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="500"/>
        <source>No proxy</source>
        <translation>Aucun proxy</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="501"/>
        <source>Manual</source>
        <translation>Manuel</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="503"/>
        <source>Proxy address</source>
        <translation>Adresse du proxy</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="504"/>
        <source>http://proxy.example:3128</source>
        <translation>http://proxy.example:3128</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="532"/>
        <source>Play a sound for new chat &amp;messages</source>
        <translation>Émettre un son pour les nouveaux &amp;messages du chat</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="534"/>
        <source>Show a desktop no&amp;tification for chat messages</source>
        <translation>Afficher une no&amp;tification sur le bureau pour les messages du chat</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="537"/>
        <source>Play a sound when someone &amp;joins</source>
        <translation>Émettre un son quand quelqu&apos;un re&amp;joint la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="539"/>
        <source>Notify me when someone raises their &amp;hand</source>
        <translation>Me &amp;prévenir quand quelqu&apos;un lève la main</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="547"/>
        <source>Keyboard shortcuts</source>
        <translation>Raccourcis clavier</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="548"/>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="548"/>
        <source>Shortcut</source>
        <translation>Raccourci</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="562"/>
        <source>Global shortcut</source>
        <translation>Raccourci global</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="564"/>
        <source>Mutes or unmutes the microphone even when Visio Desktop is not in front. Leave empty to turn it off.</source>
        <translation>Coupe ou active le micro même quand Visio Desktop n&apos;est pas au premier plan. Laissez vide pour le désactiver.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="566"/>
        <source>&amp;Mute / unmute:</source>
        <translation>Couper / activer le &amp;micro&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="573"/>
        <source>Global mute shortcut</source>
        <translation>Raccourci global pour couper le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="575"/>
        <source>T&amp;urn off</source>
        <translation>&amp;Désactiver</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="576"/>
        <source>Turn off the global mute shortcut</source>
        <translation>Désactiver le raccourci global pour couper le micro</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="595"/>
        <source>&amp;Text size:</source>
        <translation>Taille du &amp;texte&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="596"/>
        <source>Text size</source>
        <translation>Taille du texte</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="597"/>
        <source>Caption s&amp;ize:</source>
        <translation>Taille des so&amp;us-titres&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="598"/>
        <source>Caption size</source>
        <translation>Taille des sous-titres</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="599"/>
        <source>Caption &amp;language:</source>
        <translation>&amp;Langue des sous-titres&#xa0;:</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="600"/>
        <source>Same as the meeting</source>
        <translation>Celle de la réunion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/settings_dialog.py" line="602"/>
        <source>Caption language</source>
        <translation>Langue des sous-titres</translation>
    </message>
</context>
<context>
    <name>ShareIndicator</name>
    <message>
        <location filename="../../visio_desktop/ui/share_indicator.py" line="61"/>
        <source>Screen sharing</source>
        <translation>Partage d&apos;écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/share_indicator.py" line="62"/>
        <location filename="../../visio_desktop/ui/share_indicator.py" line="78"/>
        <source>You are sharing your screen</source>
        <translation>Vous partagez votre écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/share_indicator.py" line="64"/>
        <source>Stop sharing</source>
        <translation>Arrêter le partage</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/share_indicator.py" line="65"/>
        <source>Stop sharing your screen</source>
        <translation>Arrêter le partage de votre écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/share_indicator.py" line="77"/>
        <source>You are sharing {0}</source>
        <translation>Vous partagez {0}</translation>
    </message>
</context>
<context>
    <name>SidePanel</name>
    <message>
        <location filename="../../visio_desktop/ui/call_page.py" line="59"/>
        <source>Side panel</source>
        <translation>Panneau latéral</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <location filename="../../visio_desktop/ui/sign_in.py" line="70"/>
        <source>Sign in to Visio</source>
        <translation>Connexion à Visio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/sign_in.py" line="79"/>
        <source>Sign-in page</source>
        <translation>Page de connexion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/sign_in.py" line="80"/>
        <source>Loading the sign-in page…</source>
        <translation>Chargement de la page de connexion…</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/sign_in.py" line="81"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/sign_in.py" line="106"/>
        <source>The sign-in page could not be loaded.</source>
        <translation>La page de connexion n&apos;a pas pu être chargée.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/sign_in.py" line="109"/>
        <source>Sign in with your ProConnect account.</source>
        <translation>Connectez-vous avec votre compte ProConnect.</translation>
    </message>
</context>
<context>
    <name>Stage</name>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="249"/>
        <source>Participants</source>
        <translation>Participants</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="255"/>
        <source>Show previous participants</source>
        <translation>Afficher les participants précédents</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="257"/>
        <source>Show next participants</source>
        <translation>Afficher les participants suivants</translation>
    </message>
</context>
<context>
    <name>StatsDialog</name>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="171"/>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="172"/>
        <source>Connection details</source>
        <translation>Détails de la connexion</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="186"/>
        <source>Statistics of each track</source>
        <translation>Statistiques de chaque piste</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="197"/>
        <source>&amp;Copy to clipboard</source>
        <translation>&amp;Copier dans le presse-papiers</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="199"/>
        <source>Copy to clipboard</source>
        <translation>Copier dans le presse-papiers</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="202"/>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="203"/>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="254"/>
        <source>No audio or video is being sent or received.</source>
        <translation>Aucun son ni aucune vidéo n&apos;est envoyé ou reçu.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="257"/>
        <source>Tracks sent: {sent}; received: {received}.</source>
        <translation>Pistes envoyées&#xa0;: {sent}&#xa0;; reçues&#xa0;: {received}.</translation>
    </message>
</context>
<context>
    <name>StatsTableModel</name>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="57"/>
        <source>Direction</source>
        <translation>Sens</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="58"/>
        <source>Participant</source>
        <translation>Participant</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="59"/>
        <source>Track</source>
        <translation>Piste</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="60"/>
        <source>Codec</source>
        <translation>Codec</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="61"/>
        <source>Resolution</source>
        <translation>Résolution</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="62"/>
        <source>Frames/s</source>
        <translation>Images/s</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="63"/>
        <source>Bitrate</source>
        <translation>Débit</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="64"/>
        <source>Packets</source>
        <translation>Paquets</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="65"/>
        <source>Packets lost</source>
        <translation>Paquets perdus</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="66"/>
        <source>Loss</source>
        <translation>Perte</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="67"/>
        <source>Round trip</source>
        <translation>Aller-retour</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="68"/>
        <source>Jitter</source>
        <translation>Gigue</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="69"/>
        <source>Encoder</source>
        <translation>Encodeur</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="71"/>
        <source>Sending</source>
        <translation>Envoi</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="71"/>
        <source>Receiving</source>
        <translation>Réception</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="73"/>
        <source>Camera</source>
        <translation>Caméra</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="74"/>
        <source>Microphone</source>
        <translation>Microphone</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="75"/>
        <source>Screen share</source>
        <translation>Partage d&apos;écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="76"/>
        <source>Screen share sound</source>
        <translation>Son du partage d&apos;écran</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="78"/>
        <source>Audio</source>
        <translation>Audio</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="78"/>
        <source>Video</source>
        <translation>Vidéo</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="129"/>
        <source>{width} × {height}</source>
        <translation>{width} × {height}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="136"/>
        <source>{value} Mbit/s</source>
        <translation>{value}&#xa0;Mbit/s</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="137"/>
        <source>{value} kbit/s</source>
        <translation>{value}&#xa0;kbit/s</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="145"/>
        <source>{value} %</source>
        <translation>{value}&#xa0;%</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="149"/>
        <location filename="../../visio_desktop/ui/stats_dialog.py" line="153"/>
        <source>{value} ms</source>
        <translation>{value}&#xa0;ms</translation>
    </message>
</context>
<context>
    <name>Toast</name>
    <message>
        <location filename="../../visio_desktop/ui/toast.py" line="68"/>
        <source>Notification</source>
        <translation>Notification</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/toast.py" line="88"/>
        <source>Dismiss notification</source>
        <translation>Fermer la notification</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/toast.py" line="89"/>
        <source>Dismiss</source>
        <translation>Fermer</translation>
    </message>
</context>
<context>
    <name>ToastArea</name>
    <message>
        <location filename="../../visio_desktop/ui/toast.py" line="164"/>
        <source>Notifications</source>
        <translation>Notifications</translation>
    </message>
</context>
<context>
    <name>VideoTile</name>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="139"/>
        <source>{name} (screen)</source>
        <translation>Écran de {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="141"/>
        <source>{name} (you)</source>
        <translation>{name} (vous)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="152"/>
        <source>microphone muted</source>
        <translation>micro coupé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="154"/>
        <source>camera off</source>
        <translation>caméra désactivée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="157"/>
        <source>hand raised, number {order}</source>
        <translation>main levée, n°&#xa0;{order}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="160"/>
        <source>hand raised</source>
        <translation>main levée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="165"/>
        <source>pinned</source>
        <translation>épinglé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="173"/>
        <source>poor connection</source>
        <translation>connexion de mauvaise qualité</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="175"/>
        <source>connection lost</source>
        <translation>connexion perdue</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="183"/>
        <source>Press Enter to unpin.</source>
        <translation>Appuyez sur Entrée pour désépingler.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="184"/>
        <source>Press Enter to pin.</source>
        <translation>Appuyez sur Entrée pour épingler.</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="321"/>
        <source>Microphone muted</source>
        <translation>Micro coupé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="358"/>
        <source>Pinned</source>
        <translation>Épinglé</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="362"/>
        <source>Hand raised, number {order}</source>
        <translation>Main levée, n°&#xa0;{order}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="363"/>
        <source>Hand raised</source>
        <translation>Main levée</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="407"/>
        <source>Unpin</source>
        <translation>Désépingler</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/video_tile.py" line="407"/>
        <source>Pin</source>
        <translation>Épingler</translation>
    </message>
</context>
<context>
    <name>WaitingRow</name>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="393"/>
        <source>Admit</source>
        <translation>Admettre</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="395"/>
        <source>Deny</source>
        <translation>Refuser</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="405"/>
        <source>Anonymous</source>
        <translation>Anonyme</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="409"/>
        <source>Admit {name}</source>
        <translation>Admettre {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="410"/>
        <source>Deny {name}</source>
        <translation>Refuser {name}</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/participants_panel.py" line="411"/>
        <source>{name}, waiting to join</source>
        <translation>{name}, en attente</translation>
    </message>
</context>
<context>
    <name>_PageBar</name>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="178"/>
        <source>Previous page</source>
        <translation>Page précédente</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="179"/>
        <source>Previous page (Page Up)</source>
        <translation>Page précédente (Page Up)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="185"/>
        <source>Next page</source>
        <translation>Page suivante</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="186"/>
        <source>Next page (Page Down)</source>
        <translation>Page suivante (Page Down)</translation>
    </message>
    <message>
        <location filename="../../visio_desktop/ui/stage.py" line="194"/>
        <source>Page {page} / {count}</source>
        <translation>Page {page} sur {count}</translation>
    </message>
</context>
</TS>
